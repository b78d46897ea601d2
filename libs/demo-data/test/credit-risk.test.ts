import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fitLogistic, predictLinear, rocAuc, sigmoid } from '@mlops/ml';
import {
  APPLICANT_RECORD_SCHEMA,
  type ApplicantRecord,
  CREDIT_RISK_FEATURE_VIEW,
  type CreditRiskExample,
  type CreditRiskOptions,
  DEFAULT_LABEL_RECORD_SCHEMA,
  DEFAULT_LABELS_DATASET,
  HOME_OWNERSHIP,
  LOAN_PURPOSES,
  POPULATION_SHIFT,
  creditRiskStream,
  generateCreditRisk,
  homeProbabilities,
} from '../src';

const N = 4_000;
const base = (options: Partial<CreditRiskOptions> = {}): CreditRiskExample[] =>
  generateCreditRisk({ seed: 7, count: N, ...options });
const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
const meanOf = (examples: CreditRiskExample[], value: (a: ApplicantRecord) => number): number =>
  mean(examples.map((e) => value(e.applicant)));
const defaultRate = (examples: CreditRiskExample[]): number => mean(examples.map((e) => (e.label.defaulted ? 1 : 0)));

describe('determinism', () => {
  test('the same seed gives the same applicants and labels', () => {
    assert.deepEqual(generateCreditRisk({ seed: 42, count: 200 }), generateCreditRisk({ seed: 42, count: 200 }));
  });

  test('another seed gives other applicants', () => {
    const a = generateCreditRisk({ seed: 1, count: 50 }).map((e) => e.applicant.annual_income);
    const b = generateCreditRisk({ seed: 2, count: 50 }).map((e) => e.applicant.annual_income);
    assert.notDeepEqual(a, b);
  });

  test('a stream continued from an index gives the same applicants as one long stream', () => {
    const whole = generateCreditRisk({ seed: 3, count: 100 });
    const parts = [
      ...generateCreditRisk({ seed: 3, count: 60 }),
      ...creditRiskStream({ seed: 3, count: 40, startIndex: 60 }),
    ];
    assert.deepEqual(parts, whole);
  });
});

describe('records', () => {
  const examples = base();

  test('applicants lie in their documented ranges, categories in their vocabularies', () => {
    for (const { applicant: a } of examples) {
      assert.ok(Number.isInteger(a.age) && a.age >= 18 && a.age <= 85, `age ${a.age}`);
      assert.ok(a.annual_income >= 8_000 && a.annual_income <= 1_000_000 && a.annual_income % 100 === 0);
      assert.ok(a.debt_to_income >= 0 && a.debt_to_income <= 1.5);
      assert.ok(a.credit_utilization >= 0 && a.credit_utilization <= 1);
      assert.ok(Number.isInteger(a.num_open_accounts) && a.num_open_accounts >= 0 && a.num_open_accounts <= 40);
      assert.ok(Number.isInteger(a.num_delinquencies_2y) && a.num_delinquencies_2y >= 0);
      assert.ok(Number.isInteger(a.months_employed) && a.months_employed >= 0 && a.months_employed <= 480);
      assert.ok(a.loan_amount >= 1_000 && a.loan_amount <= 50_000);
      assert.ok(HOME_OWNERSHIP.includes(a.home_ownership) && LOAN_PURPOSES.includes(a.loan_purpose));
    }
  });

  test('events are in time order, one per interval; each label arrives the delay after its application', () => {
    const times = examples.map((e) => Date.parse(e.applicant.event_time));
    assert.ok(times.every((t, i) => i === 0 || t >= times[i - 1]!));
    const delayed = generateCreditRisk({ seed: 7, count: 20, labelDelayMs: 7_200_000, startMs: 0, intervalMs: 1_000 });
    for (const e of delayed) {
      assert.equal(Date.parse(e.label.event_time) - Date.parse(e.applicant.event_time), 7_200_000);
      assert.equal(e.label.applicant_id, e.applicant.applicant_id);
      assert.equal(Math.floor(Date.parse(e.applicant.event_time) / 1_000), e.index);
    }
  });

  test('the default rate is that of a consumer loan book (10% to 25%)', () => {
    const rate = defaultRate(examples);
    assert.ok(rate > 0.1 && rate < 0.25, `default rate ${rate}`);
  });

  test('every record has exactly the fields its dataset schema declares', () => {
    const [example] = examples;
    assert.deepEqual(Object.keys(example!.applicant).sort(), Object.keys(APPLICANT_RECORD_SCHEMA.properties).sort());
    assert.deepEqual(Object.keys(example!.label).sort(), Object.keys(DEFAULT_LABEL_RECORD_SCHEMA.properties).sort());
    assert.equal(DEFAULT_LABELS_DATASET.labelField, 'defaulted');
    // The view reads only declared fields.
    const declared = new Set(Object.keys(APPLICANT_RECORD_SCHEMA.properties));
    for (const feature of CREDIT_RISK_FEATURE_VIEW.features)
      if ('field' in feature) assert.ok(declared.has(feature.field), feature.field);
  });
});

describe('population shift', () => {
  const reference = base();
  const shifted = base({ populationShift: 1 });
  const half = base({ populationShift: 0.5 });

  // Tolerances cover the clamping at the ranges' ends only: the knob changes no random draw.
  const cases: Array<[string, (a: ApplicantRecord) => number, number, number]> = [
    ['age', (a) => a.age, POPULATION_SHIFT.age, 0.3],
    ['log annual income', (a) => Math.log(a.annual_income), POPULATION_SHIFT.log_annual_income, 0.01],
    ['debt to income', (a) => a.debt_to_income, POPULATION_SHIFT.debt_to_income, 0.005],
    ['credit utilization', (a) => a.credit_utilization, POPULATION_SHIFT.credit_utilization, 0.02],
    ['open accounts', (a) => a.num_open_accounts, POPULATION_SHIFT.num_open_accounts, 0.1],
    ['delinquencies', (a) => a.num_delinquencies_2y, POPULATION_SHIFT.num_delinquencies_2y, 0.05],
    ['loan amount', (a) => a.loan_amount, POPULATION_SHIFT.loan_amount, 100],
  ];
  for (const [name, value, perUnit, tolerance] of cases) {
    test(`moves the mean of ${name} by ${perUnit} per unit`, () => {
      const moved = meanOf(shifted, value) - meanOf(reference, value);
      const movedHalf = meanOf(half, value) - meanOf(reference, value);
      assert.ok(Math.abs(moved - perUnit) <= tolerance, `${name}: moved ${moved}, expected ${perUnit}`);
      assert.ok(Math.abs(movedHalf - perUnit / 2) <= tolerance, `${name}: half a unit moved ${movedHalf}`);
    });
  }

  test('leaves months employed and loan purpose alone', () => {
    assert.deepEqual(
      shifted.map((e) => [e.applicant.months_employed, e.applicant.loan_purpose]),
      reference.map((e) => [e.applicant.months_employed, e.applicant.loan_purpose]),
    );
  });

  test('moves the share of renters by the expected amount', () => {
    const share = (examples: CreditRiskExample[]) =>
      mean(examples.map((e) => (e.applicant.home_ownership === 'rent' ? 1 : 0)));
    const expected = homeProbabilities(1).rent - homeProbabilities(0).rent;
    assert.ok(Math.abs(expected - POPULATION_SHIFT.home_ownership_rent) < 1e-9);
    assert.ok(
      Math.abs(share(shifted) - share(reference) - expected) < 0.03,
      `renters moved ${share(shifted) - share(reference)}`,
    );
  });

  test('a riskier population defaults more often under the same relation', () => {
    assert.ok(
      defaultRate(shifted) > defaultRate(reference) + 0.03,
      `${defaultRate(shifted)} vs ${defaultRate(reference)}`,
    );
  });
});

/** Standardized numeric features and one-hot categories, with the training rows' centers and scales. */
function design(train: CreditRiskExample[]) {
  const numeric = (a: ApplicantRecord) => [
    a.age,
    Math.log(a.annual_income),
    a.debt_to_income,
    a.credit_utilization,
    a.num_open_accounts,
    a.num_delinquencies_2y,
    a.months_employed,
    a.loan_amount,
  ];
  const rows = train.map((e) => numeric(e.applicant));
  const cols = rows[0]!.length;
  const centers = Array.from({ length: cols }, (_, j) => mean(rows.map((r) => r[j]!)));
  const scales = Array.from({ length: cols }, (_, j) => Math.sqrt(mean(rows.map((r) => (r[j]! - centers[j]!) ** 2))));
  return (examples: CreditRiskExample[]) => {
    const width = cols + HOME_OWNERSHIP.length + LOAN_PURPOSES.length;
    const data = new Float64Array(examples.length * width);
    examples.forEach((e, i) => {
      const row = [
        ...numeric(e.applicant).map((v, j) => (v - centers[j]!) / scales[j]!),
        ...HOME_OWNERSHIP.map((h) => (e.applicant.home_ownership === h ? 1 : 0)),
        ...LOAN_PURPOSES.map((p) => (e.applicant.loan_purpose === p ? 1 : 0)),
      ];
      data.set(row, i * width);
    });
    return { rows: examples.length, cols: width, data };
  };
}

describe('the label responds to the features', () => {
  const train = generateCreditRisk({ seed: 11, count: N });
  const matrixOf = design(train);
  const labels = (examples: CreditRiskExample[]) => Float64Array.from(examples, (e) => (e.label.defaulted ? 1 : 0));
  const model = fitLogistic(matrixOf(train), labels(train));
  const auc = (examples: CreditRiskExample[]) =>
    rocAuc(labels(examples), Array.from(predictLinear(model, matrixOf(examples)), sigmoid))!;
  // Held-out applicants: indices the training set did not use.
  const holdout = (options: Partial<CreditRiskOptions> = {}) =>
    generateCreditRisk({ seed: 11, count: N, startIndex: N, ...options });

  test('a logistic model trained on unshifted data ranks unshifted applicants well (AUC > 0.7)', () => {
    const value = auc(holdout());
    assert.ok(value > 0.7, `AUC ${value}`);
  });

  test('after the concept shift the same model ranks them much worse', () => {
    const before = auc(holdout());
    const after = auc(holdout({ conceptShift: 1 }));
    assert.ok(after < before - 0.15, `AUC ${before} -> ${after}`);
    assert.ok(after < 0.62, `AUC after the concept shift ${after}`);
  });

  test('half a concept shift costs part of the ranking power', () => {
    const [before, halfway, after] = [0, 0.5, 1].map((conceptShift) => auc(holdout({ conceptShift })));
    assert.ok(before! > halfway! && halfway! > after!, `AUC ${before} > ${halfway} > ${after}`);
  });

  test('a population shift alone keeps the ranking power (drift without decay)', () => {
    const value = auc(holdout({ populationShift: 1 }));
    assert.ok(value > 0.7, `AUC ${value}`);
  });
});
