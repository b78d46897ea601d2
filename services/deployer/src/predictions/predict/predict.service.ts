import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import type { PredictionLoggedV1 } from '@mlops/contracts';
import type { DeployerConfig } from '../../config';
import { CanaryGuardService } from '../../deployments/roll-back-canary/canary-guard.service';
import {
  type Explanation,
  type TreeExplainMethod,
  explanationRows,
  explanationsOf,
  treeExplanations,
} from '../../domain/explain';
import type { OnlineFeatures } from '../../domain/online-features';
import { CANARY_ALIAS, PRODUCTION_ALIAS, SHADOW_ALIAS, goesToCanary } from '../../domain/rollout';
import { type EncodedRows, type RowError, type RowOutput, encodeRows, joinFeatures } from '../../domain/rows';
import type { FeatureValue, FeatureVector } from '../../domain/signature';
import type { LoadedModel } from '../../infrastructure/loaded-model';
import { PredictionLog } from '../../infrastructure/prediction-log';
import { ServingMetrics } from '../../infrastructure/serving-metrics';
import { type ResolveError, ServingTable } from '../../infrastructure/serving-table';
import { DEPLOYER_CONFIG, ONLINE_FEATURES } from '../../tokens';

/** How a request arrived: the prediction log's channel, and the metrics' (OIP is HTTP with tensors). */
export type Channel = 'http' | 'oip' | 'stream';

export interface PredictRow {
  readonly entityId?: string | undefined;
  readonly features?: FeatureVector | undefined;
}

export interface PredictRequest {
  readonly model: string;
  readonly alias?: string | undefined;
  readonly version?: number | undefined;
  readonly rows: readonly PredictRow[];
  readonly requestId?: string | undefined;
  readonly channel: Channel;
  /** Per-feature contributions to each row's margin (see domain/explain). */
  readonly explain?: boolean | undefined;
  /** For tree ensembles: TreeSHAP (default) or Saabas. */
  readonly explainMethod?: TreeExplainMethod | undefined;
}

export interface ScoredRow {
  readonly entityId: string | undefined;
  readonly output: RowOutput;
  readonly missingFeatures: readonly string[];
  readonly explanation?: Explanation;
}

export interface Scored {
  readonly model: string;
  readonly alias: string;
  readonly version: number;
  readonly requestId: string;
  readonly rows: readonly ScoredRow[];
}

/** How a request reached its version: a version or alias it named, or production traffic (primary or canary). */
type Arm = 'explicit' | 'primary' | 'canary';

export type PredictError =
  ResolveError | RowError | DomainError<'unknown_entity' | 'batch_too_large' | 'scoring_failed'>;

/**
 * Scores rows with the version a request names: features joined from the online cache (overridden by the
 * request's), one session run (coalesced with concurrent requests when micro-batching is on), the prediction log
 * written off the request path, metrics per model, version and arm.
 */
@Injectable()
export class PredictService {
  private readonly logger = new Logger('predict');

  constructor(
    private readonly table: ServingTable,
    @Inject(ONLINE_FEATURES) private readonly online: OnlineFeatures,
    private readonly log: PredictionLog,
    private readonly metrics: ServingMetrics,
    @Inject(DEPLOYER_CONFIG) private readonly config: DeployerConfig,
    private readonly canaries: CanaryGuardService,
  ) {}

  resolve(model: string, alias?: string, version?: number): Result<LoadedModel, ResolveError> {
    return this.table.resolve(model, alias, version);
  }

  async predict(request: PredictRequest): Promise<Result<Scored, PredictError>> {
    const started = performance.now();
    const failure = (error: PredictError, version = ''): Result<Scored, PredictError> => {
      this.metrics.errors.inc({
        model: request.model,
        version,
        arm: 'primary',
        channel: request.channel,
        kind: error.kind,
      });
      return err(error);
    };
    if (request.rows.length > this.config.PREDICT_MAX_BATCH) return failure(this.tooLarge(request.rows.length));
    const resolved = this.table.resolve(request.model, request.alias, request.version);
    if (!resolved.ok) return failure(resolved.error);
    const { loaded, arm } = this.route(resolved.value, request);
    const vectors = this.vectorsFor(loaded, request.rows);
    if (!vectors.ok) return failure(vectors.error, String(loaded.deployment.version));
    const encoded = encodeRows(loaded.signature, vectors.value);
    if (!encoded.ok) return failure(encoded.error, String(loaded.deployment.version));
    const requestId = request.requestId ?? randomUUID();
    const scored = await this.score(loaded, encoded.value, { ...request, requestId }, vectors.value, started, arm);
    if (scored.ok && arm !== 'explicit') void this.shadow(request, requestId);
    return scored;
  }

  /**
   * Production traffic (no version asked for) is shared with the version behind the "canary" alias, if any:
   * CANARY_PERCENT of the entities (by a stable hash of the first row's entity, else of the request id) go to it,
   * until it is rolled back (its error rate or latency out of bounds): then production answers them all.
   */
  private route(resolved: LoadedModel, request: PredictRequest): { loaded: LoadedModel; arm: Arm } {
    if (request.version !== undefined || resolved.deployment.alias !== PRODUCTION_ALIAS)
      return { loaded: resolved, arm: 'explicit' };
    const canary = this.table.serving(request.model, CANARY_ALIAS);
    const key = request.rows[0]?.entityId ?? request.requestId;
    if (
      canary &&
      key !== undefined &&
      this.canaries.admits(canary) &&
      goesToCanary(request.model, key, this.config.CANARY_PERCENT)
    )
      return { loaded: canary, arm: 'canary' };
    return { loaded: resolved, arm: 'primary' };
  }

  /** The version behind the "shadow" alias scores production requests too; its answers are only logged. */
  private async shadow(request: PredictRequest, requestId: string): Promise<void> {
    const shadow = this.table.serving(request.model, SHADOW_ALIAS);
    if (!shadow) return;
    const started = performance.now();
    const labels = {
      model: request.model,
      version: String(shadow.deployment.version),
      arm: 'shadow',
      channel: request.channel,
    };
    const vectors = this.vectorsFor(shadow, request.rows);
    const encoded = vectors.ok ? encodeRows(shadow.signature, vectors.value) : vectors;
    if (!encoded.ok || !vectors.ok) {
      this.metrics.errors.inc({ ...labels, kind: encoded.ok ? 'invalid_feature' : encoded.error.kind });
      return;
    }
    try {
      const outputs = await shadow.predict(encoded.value);
      const rows = outputs.map((output, i) => ({
        entityId: request.rows[i]?.entityId,
        output,
        missingFeatures: encoded.value.missing[i] ?? [],
      }));
      const latencyMs = performance.now() - started;
      this.metrics.requests.inc(labels);
      this.metrics.latency.observe(labels, latencyMs / 1000);
      this.record(shadow, encoded.value, vectors.value, rows, requestId, request.channel, latencyMs, 'shadow');
    } catch (error) {
      this.logger.warn(`${shadow.describe()}: shadow run failed: ${(error as Error).message}`);
      this.metrics.errors.inc({ ...labels, kind: 'scoring_failed' });
    }
  }

  /** Each row's feature vector for a model: the entity's online features overridden by the row's, or the row's. */
  private vectorsFor(
    loaded: LoadedModel,
    rows: readonly PredictRow[],
  ): Result<FeatureVector[], DomainError<'unknown_entity'>> {
    const vectors: FeatureVector[] = [];
    for (const row of rows) {
      if (row.entityId === undefined) {
        vectors.push(row.features ?? {});
        continue;
      }
      const stored = this.online.get(loaded.deployment.featureView, row.entityId);
      if (stored !== undefined) vectors.push(joinFeatures(loaded.signature, stored, row.features));
      else if (row.features !== undefined) vectors.push(row.features);
      else {
        const view = loaded.deployment.featureView;
        return err(
          domainError('unknown_entity', `no online features for "${row.entityId}" in ${view.name} v${view.version}`, {
            entityId: row.entityId,
            featureView: view,
          }),
        );
      }
    }
    return ok(vectors);
  }

  /** Scores rows already in the model's layout (OIP tensors). */
  scoreEncoded(
    loaded: LoadedModel,
    encoded: EncodedRows,
    request: Pick<PredictRequest, 'requestId' | 'channel'>,
  ): Promise<Result<Scored, PredictError>> {
    const started = performance.now();
    if (encoded.rows > this.config.PREDICT_MAX_BATCH) {
      const error = this.tooLarge(encoded.rows);
      const { model, version } = loaded.deployment;
      this.metrics.errors.inc({
        model,
        version: String(version),
        arm: 'primary',
        channel: request.channel,
        kind: error.kind,
      });
      return Promise.resolve(err(error));
    }
    return this.score(
      loaded,
      encoded,
      { ...request, model: loaded.deployment.model, rows: [] },
      null,
      started,
      'explicit',
    );
  }

  private async score(
    loaded: LoadedModel,
    encoded: EncodedRows,
    request: PredictRequest,
    vectors: readonly FeatureVector[] | null,
    started: number,
    arm: Arm,
  ): Promise<Result<Scored, PredictError>> {
    const { model, alias, version } = loaded.deployment;
    const role = arm === 'canary' ? 'canary' : 'primary';
    const labels = { model, version: String(version), arm: role, channel: request.channel };
    let outputs: RowOutput[];
    try {
      outputs = await loaded.predict(encoded);
    } catch (error) {
      this.logger.error(`${loaded.describe()}: run failed: ${(error as Error).message}`);
      this.metrics.errors.inc({ ...labels, kind: 'scoring_failed' });
      if (arm === 'canary') this.canaries.record(loaded, true, performance.now() - started);
      return err(domainError('scoring_failed', `${loaded.describe()} could not score the request`));
    }
    let explanations: Explanation[] | undefined;
    if (request.explain && loaded.treeExplainers)
      explanations = treeExplanations(loaded.treeExplainers, loaded.signature, encoded, request.explainMethod);
    else if (request.explain) {
      try {
        const variants = await loaded.predict(explanationRows(loaded.signature, encoded));
        explanations = explanationsOf(loaded.signature, encoded.rows, variants);
      } catch (error) {
        this.logger.error(`${loaded.describe()}: explanation run failed: ${(error as Error).message}`);
        this.metrics.errors.inc({ ...labels, kind: 'scoring_failed' });
        if (arm === 'canary') this.canaries.record(loaded, true, performance.now() - started);
        return err(domainError('scoring_failed', `${loaded.describe()} could not explain the request`));
      }
    }
    const requestId = request.requestId ?? randomUUID();
    const rows: ScoredRow[] = outputs.map((output, i) => {
      const explanation = explanations?.[i];
      return {
        entityId: request.rows[i]?.entityId,
        output,
        missingFeatures: encoded.missing[i] ?? [],
        ...(explanation ? { explanation } : {}),
      };
    });
    const latencyMs = performance.now() - started;
    this.metrics.requests.inc(labels);
    this.metrics.latency.observe(labels, latencyMs / 1000);
    this.metrics.requestRows.observe({ model }, encoded.rows);
    this.record(loaded, encoded, vectors, rows, requestId, request.channel, latencyMs, role);
    if (arm === 'canary') this.canaries.record(loaded, false, latencyMs);
    return ok({ model, alias, version, requestId, rows });
  }

  private record(
    loaded: LoadedModel,
    encoded: EncodedRows,
    vectors: readonly FeatureVector[] | null,
    rows: readonly ScoredRow[],
    requestId: string,
    channel: Channel,
    latencyMs: number,
    servingRole: PredictionLoggedV1['servingRole'],
  ): void {
    const { model, alias, version } = loaded.deployment;
    const timestamp = new Date().toISOString();
    const entries: PredictionLoggedV1[] = [];
    rows.forEach((row, i) => {
      if (!Number.isFinite(row.output.score)) return;
      const id = rows.length === 1 ? requestId : `${requestId}:${i}`;
      entries.push({
        requestId: id.slice(0, 128),
        model,
        alias,
        version,
        entityId: row.entityId ?? `request:${id}`.slice(0, 256),
        features: vectors?.[i]
          ? modelFeatures(loaded, vectors[i] as FeatureVector)
          : decodedFeatures(loaded, encoded, i),
        missingFeatures: [...row.missingFeatures],
        output:
          row.output.label === null
            ? { value: row.output.score }
            : { value: row.output.score, label: row.output.label },
        latencyMs,
        channel: channel === 'stream' ? 'stream' : 'http',
        servingRole,
        timestamp,
      });
    });
    this.log.record(entries);
  }

  private tooLarge(rows: number): DomainError<'batch_too_large'> {
    return domainError(
      'batch_too_large',
      `${rows} rows in one request; at most ${this.config.PREDICT_MAX_BATCH} (PREDICT_MAX_BATCH)`,
      { rows, max: this.config.PREDICT_MAX_BATCH },
    );
  }
}

/** The values the model read (its features only: a request may carry more). */
function modelFeatures(loaded: LoadedModel, vector: FeatureVector): Record<string, FeatureValue> {
  const out: Record<string, FeatureValue> = {};
  for (const name of loaded.signature.numericFeatures) out[name] = vector[name] ?? null;
  for (const name of loaded.signature.categoricalFeatures) out[name] = vector[name] ?? null;
  return out;
}

/** The values of one encoded row (NaN and '' are missing). */
function decodedFeatures(loaded: LoadedModel, encoded: EncodedRows, row: number): Record<string, FeatureValue> {
  const out: Record<string, FeatureValue> = {};
  const width = loaded.signature.numericFeatures.length;
  loaded.signature.numericFeatures.forEach((name, column) => {
    const value = encoded.numeric[row * width + column] as number;
    out[name] = Number.isFinite(value) ? value : null;
  });
  for (const name of loaded.signature.categoricalFeatures) {
    const value = encoded.categorical[name]?.[row] ?? '';
    out[name] = value === '' ? null : value;
  }
  return out;
}
