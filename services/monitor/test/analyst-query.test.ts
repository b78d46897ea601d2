import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analystQuery } from '../src/domain';

const limits = { maxRows: 1000, maxSeconds: 5 };

test('a SELECT is wrapped with read-only and the limits, its FORMAT kept last', () => {
  const built = analystQuery('SELECT count() FROM monitor.predictions FORMAT JSONEachRow;', limits);
  assert.ok(built.ok);
  assert.equal(built.value.format, 'JSONEachRow');
  assert.match(built.value.sql, /^SELECT \* FROM \(\nSELECT count\(\) FROM monitor\.predictions\n\) SETTINGS /);
  assert.match(
    built.value.sql,
    /max_result_rows = 1000, result_overflow_mode = 'throw', max_execution_time = 5, readonly = 1 FORMAT JSONEachRow$/,
  );
});

test('anything but a SELECT is refused', () => {
  for (const text of ['INSERT INTO monitor.labels VALUES (1)', 'DROP TABLE monitor.predictions', 'SHOW TABLES']) {
    const built = analystQuery(text, limits);
    assert.ok(!built.ok);
    assert.equal(built.error.kind, 'not_a_select');
  }
});

test('a second statement is refused', () => {
  const built = analystQuery('SELECT 1; DROP TABLE monitor.predictions', limits);
  assert.ok(!built.ok);
  assert.equal(built.error.kind, 'multiple_statements');
});

test('a query cannot touch the readonly setting', () => {
  const built = analystQuery('SELECT 1 SETTINGS readonly = 0', limits);
  assert.ok(!built.ok);
  assert.equal(built.error.kind, 'setting_not_allowed');
});
