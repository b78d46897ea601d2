/**
 * What the demo registers for the credit-risk data: the two datasets (bodies of ingestion's
 * `PUT /datasets/:name`) and the feature view (body of feature-store's `POST /feature-views`). Plain data, so the
 * demo, its end-to-end test and people reading the README see the same definitions.
 */

export const APPLICANTS_DATASET_NAME = 'credit_applicants';
export const DEFAULT_LABELS_DATASET_NAME = 'credit_defaults';
export const CREDIT_RISK_VIEW_NAME = 'credit_risk';
/** The label field of the labels dataset, as a training-set request names it (`labels: {dataset, field}`). */
export const DEFAULT_LABEL_FIELD = 'defaulted';

/** JSON Schema (2020-12) of an applicant record: the generator's ApplicantRecord. */
export const APPLICANT_RECORD_SCHEMA = {
  type: 'object',
  required: [
    'applicant_id',
    'event_time',
    'age',
    'annual_income',
    'debt_to_income',
    'credit_utilization',
    'num_open_accounts',
    'num_delinquencies_2y',
    'months_employed',
    'loan_amount',
    'home_ownership',
    'loan_purpose',
  ],
  additionalProperties: false,
  properties: {
    applicant_id: { type: 'string', minLength: 1, maxLength: 64 },
    event_time: { type: 'string', format: 'date-time' },
    age: { type: 'integer', minimum: 18, maximum: 120 },
    annual_income: { type: 'number', minimum: 0 },
    debt_to_income: { type: 'number', minimum: 0, maximum: 10 },
    credit_utilization: { type: 'number', minimum: 0, maximum: 1 },
    num_open_accounts: { type: 'integer', minimum: 0 },
    num_delinquencies_2y: { type: 'integer', minimum: 0 },
    months_employed: { type: 'integer', minimum: 0 },
    loan_amount: { type: 'number', exclusiveMinimum: 0 },
    home_ownership: { enum: ['rent', 'mortgage', 'own'] },
    loan_purpose: { enum: ['debt_consolidation', 'credit_card', 'home_improvement', 'car', 'other'] },
  },
} as const;

/** JSON Schema (2020-12) of a label record: the generator's DefaultLabelRecord. */
export const DEFAULT_LABEL_RECORD_SCHEMA = {
  type: 'object',
  required: ['applicant_id', 'event_time', 'defaulted'],
  additionalProperties: false,
  properties: {
    applicant_id: { type: 'string', minLength: 1, maxLength: 64 },
    event_time: { type: 'string', format: 'date-time' },
    defaulted: { type: 'boolean' },
  },
} as const;

/** `PUT /datasets/credit_applicants` (ingestion). */
export const APPLICANTS_DATASET = {
  role: 'features',
  recordSchema: APPLICANT_RECORD_SCHEMA,
  entityKeyField: 'applicant_id',
  eventTimeField: 'event_time',
  description: 'Loan applications: applicant features at the time of application (demo data, seeded generator)',
  owner: 'credit-risk-demo',
} as const;

/** `PUT /datasets/credit_defaults` (ingestion): the outcome of each application, known later. */
export const DEFAULT_LABELS_DATASET = {
  role: 'labels',
  recordSchema: DEFAULT_LABEL_RECORD_SCHEMA,
  entityKeyField: 'applicant_id',
  eventTimeField: 'event_time',
  labelField: DEFAULT_LABEL_FIELD,
  description: 'Whether an applicant defaulted, known after the application (demo data, seeded generator)',
  owner: 'credit-risk-demo',
} as const;

/**
 * `POST /feature-views` (feature-store): the model's inputs from the applicants dataset. Every application is its
 * own entity, so the features are the record's fields (no windows); income enters as its logarithm, the loan as a
 * share of income, the categories one-hot. The TTL covers the label delay with room to spare.
 */
export const CREDIT_RISK_FEATURE_VIEW = {
  name: CREDIT_RISK_VIEW_NAME,
  source: { dataset: APPLICANTS_DATASET_NAME, entityKeyField: 'applicant_id', eventTimeField: 'event_time' },
  ttl: '30d',
  features: [
    { kind: 'field', name: 'age', field: 'age', cast: 'number' },
    { kind: 'log', name: 'log_annual_income', field: 'annual_income' },
    { kind: 'field', name: 'debt_to_income', field: 'debt_to_income' },
    { kind: 'field', name: 'credit_utilization', field: 'credit_utilization' },
    { kind: 'field', name: 'num_open_accounts', field: 'num_open_accounts', cast: 'number' },
    { kind: 'field', name: 'num_delinquencies_2y', field: 'num_delinquencies_2y', cast: 'number' },
    { kind: 'field', name: 'months_employed', field: 'months_employed', cast: 'number' },
    { kind: 'field', name: 'loan_amount', field: 'loan_amount' },
    { kind: 'expression', name: 'loan_to_income', expression: 'loan_amount / max(annual_income, 1)' },
    {
      kind: 'categorical',
      encoding: 'one-hot',
      name: 'home_ownership',
      field: 'home_ownership',
      vocabulary: ['rent', 'mortgage', 'own'],
    },
    {
      kind: 'categorical',
      encoding: 'one-hot',
      name: 'loan_purpose',
      field: 'loan_purpose',
      vocabulary: ['debt_consolidation', 'credit_card', 'home_improvement', 'car', 'other'],
    },
  ],
} as const;
