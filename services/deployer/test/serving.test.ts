// Unit tests of serving with a real ONNX Runtime session: encoding, signature checks, micro-batching, OIP tensors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exportOnnx, trainPipeline } from '@mlops/ml';
import { explanationRows, explanationsOf } from '../src/domain/explain';
import { decodeInputs, encodeOutputs } from '../src/domain/oip';
import { encodeRows, joinFeatures } from '../src/domain/rows';
import { type ServingSignature, servingSignatureOf } from '../src/domain/signature';
import { churnTable, loadedChurnModel as loaded, loadedModelOf } from './support';

function rowOf(i: number) {
  return {
    tenure_days: (i * 37) % 1000,
    monthly_spend: i % 7 === 0 ? null : (i * 13) % 200,
    plan: i % 5 === 0 ? null : (['basic', 'premium', 'enterprise', 'unseen'][i % 4] as string),
  };
}

test('micro-batched answers equal one-by-one answers, and concurrent requests share runs', async () => {
  const runs: number[] = [];
  const batched = await loaded({ enabled: true, maxWaitMs: 2, maxRows: 16 }, runs);
  const single = await loaded({ enabled: false, maxWaitMs: 0, maxRows: 16 });
  const encode = (i: number) => {
    const rows = encodeRows(batched.signature, [rowOf(i)]);
    assert.ok(rows.ok);
    return rows.value;
  };
  const together = await Promise.all(Array.from({ length: 64 }, (_, i) => batched.predict(encode(i))));
  const alone: unknown[] = [];
  for (let i = 0; i < 64; i++) alone.push(await single.predict(encode(i)));
  assert.deepEqual(together, alone);
  assert.ok(runs.length < 64, `${runs.length} runs for 64 requests`);
  assert.ok(
    runs.every((rows) => rows <= 16),
    `runs of ${runs.join(',')} rows`,
  );
  await Promise.all([batched.retire(), single.retire()]);
});

test('a retired model is released only when its last request ends', async () => {
  const model = await loaded({ enabled: true, maxWaitMs: 20, maxRows: 64 });
  const rows = encodeRows(model.signature, [rowOf(1)]);
  assert.ok(rows.ok);
  const pending = model.predict(rows.value);
  const retired = model.retire();
  assert.equal(model.isReleased, false);
  assert.equal(model.inFlight, 1);
  const [answer] = await pending;
  assert.ok(Number.isFinite(answer?.score));
  await retired;
  assert.equal(model.isReleased, true);
});

const SIGNATURE: ServingSignature = {
  numericInput: 'features',
  numericDtype: 'float32',
  numericFeatures: ['a', 'b'],
  categoricalFeatures: ['city'],
  scoreOutput: 'score',
  labelOutput: 'label',
  probabilitiesOutput: 'probabilities',
};

test('rows: numbers and booleans feed numeric features, strings categorical ones, null is missing', () => {
  const rows = encodeRows(SIGNATURE, [
    { a: 1.5, b: true, city: 'paris' },
    { a: null, b: false, city: null },
  ]);
  assert.ok(rows.ok);
  assert.deepEqual([...rows.value.numeric], [1.5, 1, Number.NaN, 0]);
  assert.deepEqual(rows.value.categorical, { city: ['paris', ''] });
  assert.deepEqual(rows.value.missing, [[], ['a', 'city']]);
});

test('rows: an absent feature is missing_feature, a mistyped one invalid_feature, naming the row of a batch', () => {
  const absent = encodeRows(SIGNATURE, [
    { a: 1, b: 2, city: 'x' },
    { a: 1, city: 'x' },
  ]);
  assert.ok(!absent.ok);
  assert.equal(absent.error.kind, 'missing_feature');
  assert.match(absent.error.message, /"b" is missing in row 1/);
  const mistyped = encodeRows(SIGNATURE, [{ a: 1, b: 2, city: 4 }]);
  assert.ok(!mistyped.ok);
  assert.equal(mistyped.error.kind, 'invalid_feature');
  assert.equal(encodeRows(SIGNATURE, [{ a: '1', b: 2, city: 'x' }]).ok, false);
});

test('join: request features override online ones (null included); absent everywhere is null', () => {
  assert.deepEqual(joinFeatures(SIGNATURE, { a: 1, b: 2, city: 'x', other: 3 }, { b: null, city: 'y' }), {
    a: 1,
    b: null,
    city: 'y',
  });
  assert.deepEqual(joinFeatures(SIGNATURE, { a: 1 }, undefined), { a: 1, b: null, city: null });
});

test('signature: the announced one must match the graph', () => {
  const inputs = [
    { name: 'features', type: 'float32', shape: ['N', 2] },
    { name: 'city', type: 'string', shape: ['N', 1] },
  ];
  const outputs = [
    { name: 'score', type: 'float32', shape: ['N', 1] },
    { name: 'label', type: 'int64', shape: ['N'] },
    { name: 'probabilities', type: 'float32', shape: ['N', 2] },
  ];
  const announced = {
    inputName: 'features',
    inputDtype: 'float32' as const,
    featureNames: ['a', 'b'],
    outputName: 'score',
  };
  const good = servingSignatureOf(announced, inputs, outputs);
  assert.ok(good.ok);
  assert.deepEqual(good.value, SIGNATURE);
  for (const bad of [
    { ...announced, inputName: 'x' },
    { ...announced, featureNames: ['a'] },
    { ...announced, outputName: 'y' },
    { ...announced, inputDtype: 'float64' as const },
  ]) {
    const result = servingSignatureOf(bad, inputs, outputs);
    assert.ok(!result.ok);
    assert.equal(result.error.kind, 'signature_mismatch');
  }
  assert.equal(
    servingSignatureOf(announced, [...inputs, { name: 'n', type: 'int64', shape: ['N', 1] }], outputs).ok,
    false,
  );
});

test('OIP: tensors flat or nested decode to the same rows; each malformation is named', () => {
  const flat = decodeInputs(SIGNATURE, [
    { name: 'features', shape: [2, 2], datatype: 'FP32', data: [1, 2, 3, null] },
    { name: 'city', shape: [2, 1], datatype: 'BYTES', data: ['a', 'b'] },
  ]);
  const nested = decodeInputs(SIGNATURE, [
    { name: 'city', shape: [2, 1], datatype: 'BYTES', data: [['a'], ['b']] },
    {
      name: 'features',
      shape: [2, 2],
      datatype: 'FP32',
      data: [
        [1, 2],
        [3, null],
      ],
    },
  ]);
  assert.ok(flat.ok && nested.ok);
  assert.deepEqual(flat.value, nested.value);
  assert.deepEqual(flat.value.missing, [[], ['b']]);
  const city = { name: 'city', shape: [1, 1], datatype: 'BYTES', data: ['a'] };
  const malformed: [unknown[], RegExp][] = [
    [[{ name: 'features', shape: [1, 2], datatype: 'FP32', data: [1, 2] }], /"city" is missing/],
    [[{ name: 'features', shape: [1, 2], datatype: 'FP32', data: [1] }, city], /holds 2 values, data has 1/],
    [[{ name: 'features', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }, city], /shape must be \[rows, 2\]/],
    [[{ name: 'features', shape: [1, 2], datatype: 'BYTES', data: [1, 2] }, city], /datatype must be FP32/],
    [[{ name: 'features', shape: [1, 2], datatype: 'FP32', data: [1, 'x'] }, city], /not a number/],
    [
      [{ name: 'features', shape: [2, 2], datatype: 'FP32', data: [1, 2, 3, 4] }, city],
      /has 1 rows, another input has 2/,
    ],
    [
      [
        { name: 'features', shape: [1, 2], datatype: 'FP32', data: [1, 2] },
        city,
        { name: 'zip', shape: [1], datatype: 'BYTES', data: ['x'] },
      ],
      /unknown input "zip"/,
    ],
  ];
  for (const [inputs, message] of malformed) {
    const result = decodeInputs(SIGNATURE, inputs as never);
    assert.ok(!result.ok, `${message} accepted`);
    assert.equal(result.error.kind, 'malformed_tensor');
    assert.match(result.error.message, message);
  }
  const outputs = encodeOutputs(SIGNATURE, [{ score: 0.25, label: 0, probabilities: [0.75, 0.25] }], ['probabilities']);
  assert.ok(outputs.ok);
  assert.deepEqual(outputs.value, [{ name: 'probabilities', shape: [1, 2], datatype: 'FP32', data: [0.75, 0.25] }]);
  assert.equal(encodeOutputs(SIGNATURE, [], ['nope']).ok, false);
});

test('explanations of a logistic model are exact: weight x scaled value per feature, summing to the margin', async () => {
  const { table, labels } = churnTable(400, 9);
  const { model } = trainPipeline(table, labels, 'binary', 'logistic_regression', {}, 9);
  const exported = exportOnnx(model, { modelName: 'churn', producerVersion: 'test' });
  const served = await loadedModelOf(exported, { enabled: false, maxWaitMs: 0, maxRows: 1 });
  const rows = encodeRows(served.signature, [
    { tenure_days: 120, monthly_spend: 95.5, plan: 'basic' },
    { tenure_days: 800, monthly_spend: null, plan: 'enterprise' },
  ]);
  assert.ok(rows.ok);
  const [first, second] = explanationsOf(
    served.signature,
    2,
    await served.predict(explanationRows(served.signature, rows.value)),
  );
  assert.ok(first && second);
  assert.equal(model.estimator.family, 'linear');
  const weights = model.estimator.family === 'linear' ? model.estimator.model.weights : new Float64Array();
  const steps = model.preprocessor.steps;
  const tenure = steps[0];
  assert.ok(tenure && tenure.kind === 'numeric' && tenure.name === 'tenure_days');
  const expected = (weights[0] as number) * ((120 - tenure.offset) / tenure.scale);
  assert.ok(
    Math.abs((first.contributions.tenure_days as number) - expected) < 1e-3,
    `${first.contributions.tenure_days} vs ${expected}`,
  );
  assert.ok(Math.abs(second.contributions.monthly_spend as number) < 1e-4, 'a missing feature contributes nothing');
  for (const explanation of [first, second]) {
    assert.equal(explanation.additive, true);
    const sum = Object.values(explanation.contributions).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(explanation.baseline + sum - explanation.margin) < 1e-3);
  }
  await served.retire();
});
