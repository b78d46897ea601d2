// Batch scoring's hot loop: the one-pass columnar parse equals parse-then-encode, the scores file equals
// JSON.stringify per row, and the two-thread scorer answers what a single session run answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Result, domainError, err, ok } from '@mlops/core';
import { encodeRows } from '../src/domain/rows';
import type { FeatureValue, ServingSignature } from '../src/domain/signature';
import { type SnapshotError, parseSnapshotColumns, scoreLines } from '../src/domain/snapshot-rows';
import { SnapshotScorer } from '../src/infrastructure/snapshot-scorer';
import { loadedChurnModel } from './support';

const SIGNATURE: ServingSignature = {
  numericInput: 'numeric',
  numericDtype: 'float32',
  numericFeatures: ['tenure_days', 'monthly_spend'],
  categoricalFeatures: ['plan'],
  scoreOutput: 'score',
  labelOutput: 'label',
  probabilitiesOutput: 'probabilities',
};

/** One snapshot line as the reference parse reads it. */
type ReferenceRow = { entityId: string; eventTime: string | null; features: Record<string, FeatureValue> };

/**
 * The reference the one-pass parse is checked against, written plainly: NDJSON lines into rows for the model, a line
 * that is not an object with an entity_id refused.
 */
function parseSnapshotLines(
  signature: ServingSignature,
  lines: readonly string[],
  firstLine: number,
): Result<ReferenceRow[], SnapshotError> {
  const names = [...signature.numericFeatures, ...signature.categoricalFeatures];
  const rows: ReferenceRow[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return err(domainError('invalid_snapshot', `line ${firstLine + i + 1} is not JSON`));
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return err(domainError('invalid_snapshot', `line ${firstLine + i + 1} is not a JSON object`));
    const record = value as Record<string, unknown>;
    if (typeof record.entity_id !== 'string' || record.entity_id === '')
      return err(domainError('invalid_snapshot', `line ${firstLine + i + 1} has no entity_id`));
    const features: Record<string, FeatureValue> = {};
    for (const name of names) {
      const feature = record[name];
      features[name] = feature === undefined ? null : (feature as FeatureValue);
    }
    rows.push({
      entityId: record.entity_id,
      eventTime: typeof record.event_time === 'string' ? record.event_time : null,
      features,
    });
  }
  return ok(rows);
}

/** parseSnapshotLines then encodeRows, as batch scoring did it before the one-pass parse. */
function twoPass(lines: string[], firstLine: number) {
  const parsed = parseSnapshotLines(SIGNATURE, lines, firstLine);
  if (!parsed.ok) return parsed;
  const encoded = encodeRows(
    SIGNATURE,
    parsed.value.map((row) => row.features),
  );
  if (!encoded.ok) return encoded;
  return {
    ok: true as const,
    value: {
      rows: encoded.value.rows,
      numeric: encoded.value.numeric,
      categorical: encoded.value.categorical,
      entityIds: parsed.value.map((row) => row.entityId),
      eventTimes: parsed.value.map((row) => row.eventTime),
    },
  };
}

function snapshotLine(i: number): string {
  return JSON.stringify({
    entity_id: `c-${i}`,
    event_time: i % 3 === 0 ? null : new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString(),
    tenure_days: i % 4 === 0 ? true : (i * 37) % 1000,
    ...(i % 5 === 0 ? {} : { monthly_spend: i % 7 === 0 ? null : (i * 13.25) % 200 }),
    plan: i % 6 === 0 ? null : ['basic', 'premium', 'enterprise'][i % 3],
    churned: i % 2 === 0,
  });
}

test('columnar parse: the same rows, values, ids and times as parse-then-encode (blank lines skipped)', () => {
  const lines = Array.from({ length: 40 }, (_, i) => (i % 9 === 8 ? '  ' : snapshotLine(i)));
  const columnar = parseSnapshotColumns(SIGNATURE, lines, 100);
  assert.ok(columnar.ok);
  const expected = twoPass(lines, 100);
  assert.ok(expected.ok);
  assert.deepEqual(columnar.value, expected.value);
  assert.equal(columnar.value.rows, 36);
  assert.equal(columnar.value.numeric.length, 36 * 2, 'sized to the rows, not the lines');
});

test('columnar parse: every refusal is the one parse-then-encode gives, a bad line before a bad value', () => {
  const good = (i: number) => snapshotLine(i);
  const cases: string[][] = [
    [good(1), '{"entity_id": "x", ', good(2)],
    [good(1), '[1, 2]', good(2)],
    [good(1), '{"event_time": null, "tenure_days": 1}'],
    [good(1), '{"entity_id": "", "tenure_days": 1}'],
    [good(1), JSON.stringify({ entity_id: 'a', tenure_days: 'ten', monthly_spend: 1, plan: 'basic' })],
    [good(1), JSON.stringify({ entity_id: 'a', tenure_days: 1, monthly_spend: 1, plan: 7 })],
    [JSON.stringify({ entity_id: 'a', tenure_days: 1, monthly_spend: 1, plan: 7 })],
    [JSON.stringify({ entity_id: 'a', tenure_days: { x: 1 }, monthly_spend: 1, plan: 'basic' }), good(3), '{oops'],
    [
      good(1),
      JSON.stringify({ entity_id: 'a', tenure_days: [1], monthly_spend: 1, plan: 'basic' }),
      JSON.stringify({ entity_id: 'b', tenure_days: 1, monthly_spend: 'x', plan: 'basic' }),
    ],
  ];
  for (const lines of cases) {
    const columnar = parseSnapshotColumns(SIGNATURE, lines, 10);
    assert.ok(!columnar.ok, lines.join(' | '));
    const expected = twoPass(lines, 10);
    assert.ok(!expected.ok);
    assert.deepEqual(columnar.error, expected.error, lines.join(' | '));
  }
});

test('scores file lines equal JSON.stringify of each row (NaN as null, labels, probabilities, no classes)', () => {
  const entityIds = ['a', 'b "quoted"\n', 'ü-3'];
  const eventTimes = ['2025-01-01T00:00:00.000Z', null, 'x'];
  const scores = new Float32Array([0.1, Number.NaN, 0.987654321]);
  const probabilities = new Float32Array([0.9, 0.1, Number.NaN, Number.NaN, 0.012345679, 0.987654321]);
  const expected = (withLabels: boolean, withProbabilities: boolean) =>
    entityIds
      .map((entityId, i) =>
        JSON.stringify({
          entity_id: entityId,
          event_time: eventTimes[i],
          score: scores[i],
          label: withLabels ? [0, 1, 1][i] : null,
          probabilities: withProbabilities ? [probabilities[2 * i], probabilities[2 * i + 1]] : null,
        }),
      )
      .map((line) => `${line}\n`)
      .join('');
  const labels = new BigInt64Array([0n, 1n, 1n]);
  assert.equal(
    scoreLines(entityIds, eventTimes, { rows: 3, scores, labels, probabilities, classes: 2 }),
    expected(true, true),
  );
  assert.equal(
    scoreLines(entityIds, eventTimes, { rows: 3, scores, labels: null, probabilities: null, classes: 0 }),
    expected(false, false),
  );
  assert.equal(scoreLines([], [], { rows: 0, scores, labels, probabilities, classes: 2 }), '');
});

async function collect(scores: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of scores) parts.push(Buffer.from(part));
  return Buffer.concat(parts).toString('utf8');
}

test('the two-thread scorer writes what one session run of all rows answers, in order, chunk by chunk', async () => {
  const loaded = await loadedChurnModel({ enabled: false, maxWaitMs: 0, maxRows: 1 });
  const scorer = new SnapshotScorer();
  try {
    const plans = ['basic', 'premium', 'enterprise', null, 'unseen'];
    const records = Array.from({ length: 2_345 }, (_, i) => ({
      entity_id: `c-${i}`,
      event_time: null,
      tenure_days: (i * 37) % 1000,
      monthly_spend: i % 9 === 0 ? null : (i * 13) % 200,
      plan: plans[i % 5],
    }));
    const text = `${records.map((record) => JSON.stringify(record)).join('\n')}\n`;
    const progress = { total: 0, scored: [] as number[] };
    const result = await scorer.score(
      loaded,
      Buffer.from(text),
      500,
      { onTotal: (lines) => (progress.total = lines), onScored: (rows) => progress.scored.push(rows) },
      collect,
    );
    assert.ok(result.ok);
    assert.equal(result.value.rows, 2_345);
    assert.equal(progress.total, 2_345);
    assert.deepEqual(progress.scored, [500, 500, 500, 500, 345]);
    const encoded = encodeRows(
      loaded.signature,
      records.map(({ tenure_days, monthly_spend, plan }) => ({ tenure_days, monthly_spend, plan: plan ?? null })),
    );
    assert.ok(encoded.ok);
    const outputs = await loaded.predict(encoded.value);
    const expected = records
      .map((record, i) =>
        JSON.stringify({
          entity_id: record.entity_id,
          event_time: null,
          score: outputs[i]?.score,
          label: outputs[i]?.label ?? null,
          probabilities: outputs[i]?.probabilities ?? null,
        }),
      )
      .map((line) => `${line}\n`)
      .join('');
    assert.equal(result.value.written, expected);
  } finally {
    await scorer.close();
  }
});

test('the scorer reports a bad line after the chunks before it ran, and scores the next job with the same worker', async () => {
  const loaded = await loadedChurnModel({ enabled: false, maxWaitMs: 0, maxRows: 1 });
  const scorer = new SnapshotScorer();
  try {
    const line = (i: number) =>
      JSON.stringify({ entity_id: `c-${i}`, tenure_days: i, monthly_spend: 1, plan: 'basic' });
    const lines = [...Array.from({ length: 25 }, (_, i) => line(i)), '{"entity_id": 12}', line(99)];
    const scored: number[] = [];
    const failed = await scorer.score(
      loaded,
      Buffer.from(lines.join('\n')),
      10,
      { onTotal: () => undefined, onScored: (rows) => scored.push(rows) },
      collect,
    );
    assert.ok(!failed.ok);
    assert.deepEqual(failed.error, { kind: 'invalid_snapshot', message: 'line 26 has no entity_id' });
    assert.deepEqual(scored, [10, 10], 'the chunks before the bad one ran');
    const next = await scorer.score(
      loaded,
      Buffer.from(`${line(1)}\n\n${line(2)}`),
      10,
      { onTotal: () => undefined, onScored: () => undefined },
      collect,
    );
    assert.ok(next.ok);
    assert.equal(next.value.rows, 2);
    assert.equal(next.value.written.split('\n').length, 3);
  } finally {
    await scorer.close();
  }
});
