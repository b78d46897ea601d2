import type { Matrix } from './data';
import { solveSpd } from './linalg';

/** A linear model: score = weights . x + intercept; logistic models output sigmoid(score). */
export interface LinearModel {
  readonly kind: 'logistic' | 'ridge';
  readonly weights: Float64Array;
  readonly intercept: number;
}

export interface LogisticParams {
  /** L2 penalty on the weights (not the intercept): sklearn's 1 / C. */
  readonly l2: number;
  readonly maxIterations: number;
  readonly tolerance: number;
}

export const DEFAULT_LOGISTIC: LogisticParams = { l2: 1, maxIterations: 100, tolerance: 1e-10 };

/**
 * Ridge regression in closed form: minimises sum (y - Xw - b)^2 + l2 |w|^2, the intercept unpenalised
 * (sklearn's Ridge(alpha = l2)).
 */
export function fitRidge(x: Matrix, y: Float64Array, l2: number): LinearModel {
  const p = x.cols + 1;
  const gram = new Float64Array(p * p);
  const rhs = new Float64Array(p);
  const row = new Float64Array(p);
  for (let r = 0; r < x.rows; r++) {
    row.set(x.data.subarray(r * x.cols, (r + 1) * x.cols));
    row[x.cols] = 1;
    accumulateOuter(gram, row, 1, p);
    const target = y[r] as number;
    for (let i = 0; i < p; i++) rhs[i] = (rhs[i] as number) + (row[i] as number) * target;
  }
  for (let i = 0; i < x.cols; i++) gram[i * p + i] = (gram[i * p + i] as number) + l2;
  const theta = solveSpd(gram, rhs, p) ?? solveSpd(withJitter(gram, p), rhs, p);
  if (!theta) throw new Error('ridge: the normal equations are singular (a feature is constant or duplicated)');
  return { kind: 'ridge', weights: theta.slice(0, x.cols), intercept: theta[x.cols] as number };
}

/**
 * L2-regularised logistic regression by Newton's method with step halving: minimises
 * sum logloss + l2 / 2 |w|^2 (sklearn's LogisticRegression(C = 1 / l2)); the intercept is unpenalised.
 */
export function fitLogistic(x: Matrix, y: Float64Array, params: LogisticParams = DEFAULT_LOGISTIC): LinearModel {
  const p = x.cols + 1;
  let theta = new Float64Array(p);
  let objective = logisticObjective(x, y, theta, params.l2);
  const row = new Float64Array(p);
  for (let iteration = 0; iteration < params.maxIterations; iteration++) {
    const hessian = new Float64Array(p * p);
    const gradient = new Float64Array(p);
    for (let r = 0; r < x.rows; r++) {
      row.set(x.data.subarray(r * x.cols, (r + 1) * x.cols));
      row[x.cols] = 1;
      const probability = sigmoid(dot(row, theta, p));
      const residual = probability - (y[r] as number);
      for (let i = 0; i < p; i++) gradient[i] = (gradient[i] as number) + residual * (row[i] as number);
      accumulateOuter(hessian, row, Math.max(probability * (1 - probability), 1e-12), p);
    }
    for (let i = 0; i < x.cols; i++) {
      gradient[i] = (gradient[i] as number) + params.l2 * (theta[i] as number);
      hessian[i * p + i] = (hessian[i * p + i] as number) + params.l2;
    }
    const step = solveSpd(hessian, gradient, p) ?? solveSpd(withJitter(hessian, p), gradient, p);
    if (!step) throw new Error('logistic regression: the Hessian is singular');
    let scale = 1;
    let candidate = theta;
    let candidateObjective = objective;
    for (let halving = 0; halving < 30; halving++) {
      candidate = theta.map((value, i) => value - scale * (step[i] as number));
      candidateObjective = logisticObjective(x, y, candidate, params.l2);
      if (candidateObjective <= objective) break;
      scale /= 2;
    }
    const moved = Math.max(...Array.from(step, (value) => Math.abs(value * scale)));
    theta = candidate;
    objective = Math.min(objective, candidateObjective);
    if (moved < params.tolerance) break;
  }
  return { kind: 'logistic', weights: theta.slice(0, x.cols), intercept: theta[x.cols] as number };
}

/** Scores of a linear model: probabilities of the positive class for logistic models, values for ridge. */
export function predictLinear(model: LinearModel, x: Matrix): Float64Array {
  const out = new Float64Array(x.rows);
  for (let r = 0; r < x.rows; r++) {
    let score = model.intercept;
    for (let c = 0; c < x.cols; c++) score += (model.weights[c] as number) * (x.data[r * x.cols + c] as number);
    out[r] = model.kind === 'logistic' ? sigmoid(score) : score;
  }
  return out;
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** log(1 + e^z) without overflow. */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

function logisticObjective(x: Matrix, y: Float64Array, theta: Float64Array, l2: number): number {
  let total = 0;
  for (let r = 0; r < x.rows; r++) {
    let score = theta[x.cols] as number;
    for (let c = 0; c < x.cols; c++) score += (theta[c] as number) * (x.data[r * x.cols + c] as number);
    total += softplus(score) - (y[r] as number) * score;
  }
  for (let c = 0; c < x.cols; c++) total += (l2 / 2) * (theta[c] as number) ** 2;
  return total;
}

function dot(a: Float64Array, b: Float64Array, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

function accumulateOuter(target: Float64Array, row: Float64Array, weight: number, p: number): void {
  for (let i = 0; i < p; i++) {
    const left = (row[i] as number) * weight;
    if (left === 0) continue;
    for (let j = 0; j < p; j++) target[i * p + j] = (target[i * p + j] as number) + left * (row[j] as number);
  }
}

function withJitter(matrix: Float64Array, p: number): Float64Array {
  const copy = matrix.slice();
  for (let i = 0; i < p; i++) copy[i * p + i] = (copy[i * p + i] as number) + 1e-8;
  return copy;
}
