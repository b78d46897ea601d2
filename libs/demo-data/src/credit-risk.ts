/**
 * A seeded credit-risk data generator for the closed-loop demo: loan applicants (8 numeric and 2 categorical
 * features with realistic ranges) and a default label that arrives a fixed delay after each application. Two knobs:
 * `populationShift` moves the feature distributions (younger, poorer, more indebted applicants: drift), and
 * `conceptShift` changes how the features relate to default (a model trained before it loses its ranking power).
 * Pure: no I/O, no clock, no Math.random. Applicant i depends only on (seed, i) and the knobs, and the knobs change
 * no random draw, so the same applicant can be compared across knob settings and streams can be continued.
 */
import { createRng, type Rng } from '@mlops/ml';

export const HOME_OWNERSHIP = ['rent', 'mortgage', 'own'] as const;
export type HomeOwnership = (typeof HOME_OWNERSHIP)[number];
export const LOAN_PURPOSES = ['debt_consolidation', 'credit_card', 'home_improvement', 'car', 'other'] as const;
export type LoanPurpose = (typeof LOAN_PURPOSES)[number];

/** One application: a record of the applicants dataset (field names as its schema declares them). */
export interface ApplicantRecord {
  applicant_id: string;
  /** When the application was made (RFC 3339, UTC). */
  event_time: string;
  /** Years, 18..85. */
  age: number;
  /** Currency units per year, 8,000..1,000,000, rounded to 100. */
  annual_income: number;
  /** Monthly debt payments over monthly income, 0..1.5. */
  debt_to_income: number;
  /** Revolving balance over revolving limit, 0..1. */
  credit_utilization: number;
  /** Open credit lines, 0..40. */
  num_open_accounts: number;
  /** Payments 30+ days late in the last two years, 0..20. */
  num_delinquencies_2y: number;
  /** Months with the current employer, 0..480. */
  months_employed: number;
  /** Requested amount, 1,000..50,000, rounded to 100. */
  loan_amount: number;
  home_ownership: HomeOwnership;
  loan_purpose: LoanPurpose;
}

/** The outcome of an application, known `labelDelayMs` after it: a record of the labels dataset. */
export interface DefaultLabelRecord {
  applicant_id: string;
  /** When the outcome became known: the application's time plus the label delay. */
  event_time: string;
  defaulted: boolean;
}

export interface CreditRiskExample {
  readonly index: number;
  readonly applicant: ApplicantRecord;
  readonly label: DefaultLabelRecord;
  /** The probability of default the label was drawn from (what a perfect model would say). */
  readonly defaultProbability: number;
}

export interface CreditRiskOptions {
  readonly seed: number;
  /** How many applicants. */
  readonly count: number;
  /** Index of the first applicant (continue a stream: the next call starts where the last one ended). Default 0. */
  readonly startIndex?: number;
  /** Event time of applicant 0 (ms since the epoch). Default 2025-01-01T00:00:00Z. */
  readonly startMs?: number;
  /** Applicant i applies in [start + i * interval, start + (i + 1) * interval). Default 60 s. */
  readonly intervalMs?: number;
  /** How long after the application its label is known. Default 1 h. */
  readonly labelDelayMs?: number;
  /** 0: the reference population; 1: the shifted one (POPULATION_SHIFT per unit); values in between interpolate. */
  readonly populationShift?: number;
  /** 0: the reference relation to default; 1: the changed one; values in between interpolate the coefficients. */
  readonly conceptShift?: number;
  /** Applicant ids are `<prefix><index, 7 digits>`. Default `app-`. */
  readonly idPrefix?: string;
}

export const DEFAULT_START_MS = Date.UTC(2025, 0, 1);
export const DEFAULT_INTERVAL_MS = 60_000;
export const DEFAULT_LABEL_DELAY_MS = 3_600_000;

/**
 * How far one unit of `populationShift` moves each shifted feature's mean before clamping (annual income: the mean
 * of its logarithm). Months employed and loan purpose do not move: a realistic shift leaves some features alone.
 */
export const POPULATION_SHIFT = {
  age: -8,
  log_annual_income: -0.1,
  debt_to_income: 0.03,
  credit_utilization: 0.06,
  num_open_accounts: 1.5,
  num_delinquencies_2y: 0.15,
  loan_amount: 3_000,
  /** Added to the probability of renting (taken from owning 2/3, from a mortgage 1/3). */
  home_ownership_rent: 0.1,
} as const;

/** The reference population: means and spreads before any shift. */
const BASE = {
  age: { mean: 45, sd: 11 },
  logIncome: { mean: Math.log(55_000), sd: 0.5 },
  debtToIncome: { mean: 0.3, sd: 0.12 },
  utilization: { mean: 0.35, sd: 0.18 },
  openAccounts: { mean: 6 },
  delinquencies: { mean: 0.4 },
  monthsEmployed: { mean: 60 },
  loanAmount: { mean: 15_000, sd: 6_000 },
  home: { rent: 0.4, mortgage: 0.38, own: 0.22 },
  purpose: { debt_consolidation: 0.45, credit_card: 0.22, home_improvement: 0.12, car: 0.11, other: 0.1 },
} as const;

/** Coefficients of the log-odds of default on standardized features (reference centers and scales). */
interface Relation {
  readonly intercept: number;
  readonly age: number;
  readonly logIncome: number;
  readonly debtToIncome: number;
  readonly utilization: number;
  readonly openAccounts: number;
  readonly delinquencies: number;
  readonly monthsEmployed: number;
  readonly loanAmount: number;
  readonly home: Readonly<Record<HomeOwnership, number>>;
  readonly purpose: Readonly<Record<LoanPurpose, number>>;
}

/** Before the concept shift: the usual signs (debt, utilization and missed payments raise the risk; income lowers it). */
const REFERENCE_RELATION: Relation = {
  intercept: -2.2,
  age: -0.15,
  logIncome: -0.6,
  debtToIncome: 0.7,
  utilization: 0.6,
  openAccounts: 0.1,
  delinquencies: 0.8,
  monthsEmployed: -0.35,
  loanAmount: 0.2,
  home: { rent: 0.3, mortgage: 0, own: -0.3 },
  purpose: { debt_consolidation: 0.2, credit_card: 0.1, home_improvement: -0.1, car: -0.2, other: 0.3 },
};

/** After it: nearly orthogonal to the reference (employment and many open lines now drive default, income no longer protects). */
const SHIFTED_RELATION: Relation = {
  intercept: -2.2,
  age: 0.4,
  logIncome: 0.3,
  debtToIncome: 0,
  utilization: -0.3,
  openAccounts: 0.6,
  delinquencies: 0.1,
  monthsEmployed: -0.9,
  loanAmount: -0.3,
  home: { rent: -0.3, mortgage: 0, own: 0.3 },
  purpose: { debt_consolidation: -0.2, credit_card: 0, home_improvement: 0.2, car: 0.5, other: -0.1 },
};

/** The applicants of [startIndex, startIndex + count), in event-time order, each with its later label. */
export function* creditRiskStream(options: CreditRiskOptions): Generator<CreditRiskExample> {
  const first = options.startIndex ?? 0;
  for (let index = first; index < first + options.count; index++) yield creditRiskExample(options, index);
}

export function generateCreditRisk(options: CreditRiskOptions): CreditRiskExample[] {
  return [...creditRiskStream(options)];
}

/** Applicant `index` of a seed, as the knobs of `options` make it. */
export function creditRiskExample(options: Omit<CreditRiskOptions, 'count'>, index: number): CreditRiskExample {
  const shift = options.populationShift ?? 0;
  const rng = createRng(mix(options.seed, index));
  // Every draw is made in the same order whatever the knobs: they move values, never the random sequence.
  const normal = () => gaussian(rng);
  const slot = rng.next();
  const age = clampRound(BASE.age.mean + POPULATION_SHIFT.age * shift + BASE.age.sd * normal(), 18, 85, 1);
  const logIncome = BASE.logIncome.mean + POPULATION_SHIFT.log_annual_income * shift + BASE.logIncome.sd * normal();
  const annualIncome = clampRound(Math.exp(logIncome), 8_000, 1_000_000, 100);
  const debtToIncome = clampRound(
    BASE.debtToIncome.mean + POPULATION_SHIFT.debt_to_income * shift + BASE.debtToIncome.sd * normal(),
    0,
    1.5,
    0.001,
  );
  const utilization = clampRound(
    BASE.utilization.mean + POPULATION_SHIFT.credit_utilization * shift + BASE.utilization.sd * normal(),
    0,
    1,
    0.001,
  );
  const openAccounts = Math.min(
    40,
    poisson(BASE.openAccounts.mean + POPULATION_SHIFT.num_open_accounts * shift, rng.next()),
  );
  const delinquencies = Math.min(
    20,
    poisson(Math.max(0.01, BASE.delinquencies.mean + POPULATION_SHIFT.num_delinquencies_2y * shift), rng.next()),
  );
  const monthsEmployed = Math.min(480, Math.floor(-Math.log(1 - rng.next()) * BASE.monthsEmployed.mean));
  const loanAmount = clampRound(
    BASE.loanAmount.mean + POPULATION_SHIFT.loan_amount * shift + BASE.loanAmount.sd * normal(),
    1_000,
    50_000,
    100,
  );
  const homeOwnership = pick(homeProbabilities(shift), rng.next());
  const loanPurpose = pick(BASE.purpose, rng.next());
  const labelDraw = rng.next();

  const startMs = options.startMs ?? DEFAULT_START_MS;
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  const appliedAt = startMs + index * intervalMs + Math.floor(slot * intervalMs);
  const id = `${options.idPrefix ?? 'app-'}${String(index).padStart(7, '0')}`;
  const applicant: ApplicantRecord = {
    applicant_id: id,
    event_time: new Date(appliedAt).toISOString(),
    age,
    annual_income: annualIncome,
    debt_to_income: debtToIncome,
    credit_utilization: utilization,
    num_open_accounts: openAccounts,
    num_delinquencies_2y: delinquencies,
    months_employed: monthsEmployed,
    loan_amount: loanAmount,
    home_ownership: homeOwnership,
    loan_purpose: loanPurpose,
  };
  const probability = defaultProbability(applicant, options.conceptShift ?? 0);
  return {
    index,
    applicant,
    label: {
      applicant_id: id,
      event_time: new Date(appliedAt + (options.labelDelayMs ?? DEFAULT_LABEL_DELAY_MS)).toISOString(),
      defaulted: labelDraw < probability,
    },
    defaultProbability: probability,
  };
}

/** P(default | applicant) under the relation `conceptShift` gives (0: reference, 1: shifted, linear in between). */
export function defaultProbability(applicant: ApplicantRecord, conceptShift = 0): number {
  const w = (pick: (r: Relation) => number) =>
    (1 - conceptShift) * pick(REFERENCE_RELATION) + conceptShift * pick(SHIFTED_RELATION);
  const z = {
    age: (applicant.age - BASE.age.mean) / BASE.age.sd,
    logIncome: (Math.log(applicant.annual_income) - BASE.logIncome.mean) / BASE.logIncome.sd,
    debtToIncome: (applicant.debt_to_income - BASE.debtToIncome.mean) / BASE.debtToIncome.sd,
    utilization: (applicant.credit_utilization - BASE.utilization.mean) / BASE.utilization.sd,
    openAccounts: (applicant.num_open_accounts - BASE.openAccounts.mean) / Math.sqrt(BASE.openAccounts.mean),
    delinquencies: (applicant.num_delinquencies_2y - BASE.delinquencies.mean) / Math.sqrt(BASE.delinquencies.mean),
    monthsEmployed: (applicant.months_employed - BASE.monthsEmployed.mean) / BASE.monthsEmployed.mean,
    loanAmount: (applicant.loan_amount - BASE.loanAmount.mean) / BASE.loanAmount.sd,
  };
  const logit =
    w((r) => r.intercept) +
    w((r) => r.age) * z.age +
    w((r) => r.logIncome) * z.logIncome +
    w((r) => r.debtToIncome) * z.debtToIncome +
    w((r) => r.utilization) * z.utilization +
    w((r) => r.openAccounts) * z.openAccounts +
    w((r) => r.delinquencies) * z.delinquencies +
    w((r) => r.monthsEmployed) * z.monthsEmployed +
    w((r) => r.loanAmount) * z.loanAmount +
    w((r) => r.home[applicant.home_ownership]) +
    w((r) => r.purpose[applicant.loan_purpose]);
  return 1 / (1 + Math.exp(-logit));
}

/** The probabilities of each home ownership after `shift`: renting gains, owning loses most. */
export function homeProbabilities(shift: number): Record<HomeOwnership, number> {
  const moved = POPULATION_SHIFT.home_ownership_rent * shift;
  const raw = {
    rent: Math.max(0.02, BASE.home.rent + moved),
    mortgage: Math.max(0.02, BASE.home.mortgage - moved / 3),
    own: Math.max(0.02, BASE.home.own - (2 * moved) / 3),
  };
  const total = raw.rent + raw.mortgage + raw.own;
  return { rent: raw.rent / total, mortgage: raw.mortgage / total, own: raw.own / total };
}

/** A 32-bit seed for applicant `index` of `seed` (splitmix-style mixing: neighbouring indices are unrelated). */
function mix(seed: number, index: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** A standard normal draw (Box-Muller; always two uniforms). */
function gaussian(rng: Rng): number {
  const u = 1 - rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** The Poisson(mean) quantile of u: one uniform whatever the mean, so a shifted mean keeps the draw. */
function poisson(mean: number, u: number): number {
  let k = 0;
  let p = Math.exp(-mean);
  let cumulative = p;
  while (u > cumulative && k < 1_000) {
    k++;
    p *= mean / k;
    cumulative += p;
  }
  return k;
}

function pick<K extends string>(probabilities: Readonly<Record<K, number>>, u: number): K {
  const entries = Object.entries(probabilities) as Array<[K, number]>;
  let cumulative = 0;
  for (const [key, p] of entries) {
    cumulative += p;
    if (u < cumulative) return key;
  }
  return entries[entries.length - 1]![0];
}

function clampRound(value: number, min: number, max: number, step: number): number {
  const rounded = Math.round(Math.min(max, Math.max(min, value)) / step) * step;
  // Decimal steps: keep the printed value short (0.301, not 0.30100000000000005).
  return step < 1 ? Number(rounded.toFixed(Math.ceil(-Math.log10(step)))) : rounded;
}
