import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type SnapshotColumn, readTrainingTable } from '../src/domain/snapshot-table';
import { parseParams, runTrainingJob } from '../src/domain/training-job';
import { CHURN_COLUMNS, churnRows, encodeRows } from './support';

const columns: SnapshotColumn[] = CHURN_COLUMNS.map((column) => ({ ...column }));

function failureOf(rows: object[], task: 'binary' | 'regression' = 'binary', cols = columns): string {
  const result = readTrainingTable(Buffer.from(rows.map((row) => `${JSON.stringify(row)}\n`).join('')), cols, task);
  assert.equal(result.ok, false);
  return result.ok ? '' : result.error.kind;
}

test('a snapshot reads into numeric features first, then categorical ones; unlabelled rows are dropped', () => {
  const rows = churnRows(20);
  rows[3] = { ...rows[3]!, churned: null };
  const result = readTrainingTable(encodeRows(rows), columns, 'binary');
  assert.ok(result.ok);
  assert.deepEqual(
    result.value.table.columns.map((column) => [column.name, column.kind]),
    [
      ['tenure_days', 'numeric'],
      ['monthly_spend', 'numeric'],
      ['plan', 'categorical'],
    ],
  );
  assert.equal(result.value.table.rows, 19);
  assert.equal(result.value.unlabelledRows, 1);
});

test('no labelled row is no_labels', () => {
  assert.equal(failureOf(churnRows(5).map((row) => ({ ...row, churned: null }))), 'no_labels');
});

test('one class only is one_class', () => {
  assert.equal(failureOf(churnRows(30).map((row) => ({ ...row, churned: true }))), 'one_class');
});

test('a feature missing in every row is all_missing_feature', () => {
  assert.equal(failureOf(churnRows(30).map((row) => ({ ...row, monthly_spend: null }))), 'all_missing_feature');
});

test('a feature with one value is constant_feature', () => {
  assert.equal(failureOf(churnRows(30).map((row) => ({ ...row, plan: 'basic' }))), 'constant_feature');
});

test('a label a binary model cannot read is unsupported_label', () => {
  assert.equal(
    failureOf(churnRows(30).map((row, i) => ({ ...row, churned: i === 4 ? 'yes' : row.churned }))),
    'unsupported_label',
  );
});

test('a line that is not JSON is snapshot_unreadable', () => {
  const result = readTrainingTable(Buffer.from('{"entity_id":"a"}\nnot json\n'), columns, 'binary');
  assert.equal(result.ok ? '' : result.error.kind, 'snapshot_unreadable');
});

test('parameters: known names in snake or camel case, a wrong type refused, unknown names ignored', () => {
  const parsed = parseParams({ learning_rate: 0.2, maxDepth: 3, seed: 9, epochs: 200 });
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value.hyper, { learningRate: 0.2, maxDepth: 3 });
  assert.equal(parsed.value.seed, 9);
  assert.deepEqual(parsed.value.ignored, ['epochs']);
  const refused = parseParams({ max_depth: 'deep' });
  assert.equal(refused.ok ? '' : refused.error.kind, 'invalid_params');
});

test('the holdout is the latest rows by event time, and the metrics are computed on it', () => {
  const table = readTrainingTable(encodeRows(churnRows(200)), columns, 'binary');
  assert.ok(table.ok);
  const job = {
    task: 'binary_classification' as const,
    algorithm: 'logistic_regression',
    params: {},
    holdoutFraction: 0.25,
    modelName: 'churn',
    codeVersion: 't',
  };
  const outcome = runTrainingJob(table.value, job);
  assert.ok(outcome.ok);
  assert.deepEqual(outcome.value.rows, { training: 150, holdout: 50 });
  const times = table.value.eventTimes;
  const latestTraining = Math.max(...Array.from(times).slice(0, 150));
  assert.ok(latestTraining < (times[150] as number));
  assert.equal(
    outcome.value.metrics['true_positives']! +
      outcome.value.metrics['false_negatives']! +
      outcome.value.metrics['true_negatives']! +
      outcome.value.metrics['false_positives']!,
    50,
  );
});

test('an algorithm that does not do the task is unsupported_algorithm', () => {
  const table = readTrainingTable(encodeRows(churnRows(50)), columns, 'binary');
  assert.ok(table.ok);
  const outcome = runTrainingJob(table.value, {
    task: 'binary_classification',
    algorithm: 'linear_regression',
    params: {},
    holdoutFraction: 0.2,
    modelName: 'm',
    codeVersion: 't',
  });
  assert.equal(outcome.ok ? '' : outcome.error.kind, 'unsupported_algorithm');
});
