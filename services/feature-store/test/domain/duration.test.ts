import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from '../../src/domain';

test('parses ISO-8601, shorthand and seconds into milliseconds', () => {
  const cases: [string | number, number][] = [
    ['PT24H', 86_400_000],
    ['P7D', 604_800_000],
    ['P1DT12H', 129_600_000],
    ['PT1H30M', 5_400_000],
    ['PT90S', 90_000],
    ['P2W', 1_209_600_000],
    ['1h', 3_600_000],
    ['15m', 900_000],
    ['7d', 604_800_000],
    [90, 90_000],
  ];
  for (const [input, ms] of cases) assert.deepEqual(parseDuration(input), { ok: true, value: ms }, String(input));
});

test('refuses durations that are not positive or have no fixed length', () => {
  for (const input of ['P1M', 'P1Y', 'PT', 'P', '', 'PT0S', '24', 'soon', 0, -5, Number.NaN]) {
    const result = parseDuration(input);
    assert.equal(result.ok, false, String(input));
  }
  const months = parseDuration('P1M');
  assert.ok(!months.ok && /years or months/.test(months.error));
});
