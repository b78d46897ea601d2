import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type * as ort from 'onnxruntime-node';
import type { DataSource } from 'typeorm';
import { type ArtifactStore, ArtifactIntegrityError, ArtifactNotFoundError, verifyDigest } from '@mlops/artifacts';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { type DeploymentFailedV1, EventTypes } from '@mlops/contracts';
import { type CloudEvent, newEvent } from '@mlops/messaging';
import { POSTGRES } from '@mlops/storage';
import type { DeployerConfig } from '../../config';
import { strategyOf } from '../../domain/rollout';
import { treeExplainersOf } from '../../domain/explain';
import { encodeRows } from '../../domain/rows';
import { type ServingSignature, featuresOf, servingSignatureOf } from '../../domain/signature';
import { announce } from '../../infrastructure/announce';
import { LoadedModel, createSession, graphOf, runSession } from '../../infrastructure/loaded-model';
import { ServingMetrics } from '../../infrastructure/serving-metrics';
import { ServingTable } from '../../infrastructure/serving-table';
import { ARTIFACT_STORE, DEPLOYER_CONFIG, INSTANCE_ID, SOURCE } from '../../tokens';

type Promoted = CloudEvent<typeof EventTypes.ModelPromotedV1>;

const DOWNLOAD_ATTEMPTS = 3;
type Stage = DeploymentFailedV1['stage'];

/** Why a promoted version could not be served: the failed step and a stable code. */
export type DeployError = DomainError<'deployment_failed'> & {
  readonly details: { readonly stage: Stage; readonly errorCode: string };
};

export type DeployOutcome =
  { readonly status: 'deployed'; readonly warmupMs: number } | { readonly status: 'unchanged' };

/**
 * Acts on a promotion: fetch the artifact, verify its sha256, load it in ONNX Runtime, check its signature against
 * the announced one, warm it up, swap it in (requests in flight finish on the old session, which is released once
 * drained) and announce the outcome (outbox). A version that fails at any step leaves the old one serving.
 * Deployments of one model/alias run one at a time, in the order of the promotions.
 */
@Injectable()
export class DeployModelService implements OnApplicationShutdown {
  private readonly logger = new Logger('deployments');
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    private readonly table: ServingTable,
    private readonly metrics: ServingMetrics,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    @Inject(DEPLOYER_CONFIG) private readonly config: DeployerConfig,
    @Inject(INSTANCE_ID) private readonly instanceId: string,
    @Inject(POSTGRES) private readonly dataSource: DataSource,
  ) {}

  deploy(event: Promoted): Promise<Result<DeployOutcome, DeployError>> {
    const key = `${event.data.model}/${event.data.alias}`;
    const next = (this.chains.get(key) ?? Promise.resolve()).then(() => this.deployNow(event));
    this.chains.set(
      key,
      next.catch(() => undefined),
    );
    return next;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.chains.values()]);
    await Promise.all(this.table.clear().map((loaded) => loaded.retire()));
    this.metrics.sessionsLoaded.set(0);
  }

  private async deployNow(event: Promoted): Promise<Result<DeployOutcome, DeployError>> {
    const promoted = event.data;
    const current = this.table.serving(promoted.model, promoted.alias);
    if (
      current &&
      current.deployment.version === promoted.version &&
      current.deployment.artifactSha256 === promoted.artifact.sha256
    ) {
      this.metrics.deployments.inc({ model: promoted.model, outcome: 'unchanged' });
      return ok({ status: 'unchanged' });
    }
    const loaded = await this.load(event);
    if (!loaded.ok) {
      const failure = loaded.error;
      this.logger.warn(
        `${promoted.model}/${promoted.alias} v${promoted.version} not deployed (${failure.details.stage}: ${failure.details.errorCode}): ${failure.message}; ${current ? `v${current.deployment.version} keeps serving` : 'nothing serves it'}`,
      );
      this.metrics.deployments.inc({ model: promoted.model, outcome: 'failed' });
      await this.announce(
        newEvent(
          EventTypes.DeploymentFailedV1,
          {
            model: promoted.model,
            alias: promoted.alias,
            version: promoted.version,
            strategy: strategyOf(promoted.alias),
            instanceId: this.instanceId,
            promotionEventId: event.id,
            stage: failure.details.stage,
            errorCode: failure.details.errorCode,
            message: failure.message.slice(0, 2000),
            servingVersion: current?.deployment.version ?? null,
            failedAt: new Date().toISOString(),
          },
          { source: SOURCE, causedBy: event },
        ),
      );
      return loaded;
    }
    const { model: next, warmupMs } = loaded.value;
    const previous = this.table.swap(next);
    this.metrics.sessionsLoaded.inc();
    if (previous) void previous.retire().then(() => this.metrics.sessionsLoaded.dec());
    this.metrics.deployments.inc({ model: promoted.model, outcome: 'succeeded' });
    this.logger.log(
      `${next.describe()} serving (warm-up ${warmupMs.toFixed(1)} ms)${previous ? `, v${previous.deployment.version} drains` : ''}`,
    );
    await this.announce(
      newEvent(
        EventTypes.DeploymentSucceededV1,
        {
          model: promoted.model,
          alias: promoted.alias,
          version: promoted.version,
          strategy: strategyOf(promoted.alias),
          instanceId: this.instanceId,
          promotionEventId: event.id,
          previousVersion: previous?.deployment.version ?? null,
          artifactSha256: promoted.artifact.sha256,
          warmupMs: Math.ceil(warmupMs),
          servingSince: next.deployment.servingSince,
        },
        { source: SOURCE, causedBy: event },
      ),
    );
    return ok({ status: 'deployed', warmupMs });
  }

  private async load(event: Promoted): Promise<Result<{ model: LoadedModel; warmupMs: number }, DeployError>> {
    const promoted = event.data;
    let bytes: Buffer | undefined;
    // A store that does not answer (S3 down, a network blip) is tried again a few times; missing or corrupt is final.
    for (let attempt = 1; bytes === undefined; attempt++) {
      try {
        bytes = await this.artifacts.get(promoted.artifact.uri);
        verifyDigest(promoted.artifact.uri, promoted.artifact.sha256, bytes);
      } catch (error) {
        if (error instanceof ArtifactIntegrityError) return failed('verify', 'sha256_mismatch', error.message);
        if (error instanceof ArtifactNotFoundError) return failed('download', 'artifact_not_found', error.message);
        if (attempt >= DOWNLOAD_ATTEMPTS) return failed('download', 'artifact_unreadable', (error as Error).message);
        bytes = undefined;
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }
    let session: ort.InferenceSession;
    try {
      session = await createSession(bytes);
    } catch (error) {
      return failed('load', 'invalid_onnx', `ONNX Runtime cannot load the artifact: ${(error as Error).message}`);
    }
    const graph = graphOf(session);
    const signature = servingSignatureOf(promoted.signature, graph.inputs, graph.outputs);
    if (!signature.ok) {
      await session.release();
      return failed('load', 'signature_mismatch', signature.error.message);
    }
    const started = performance.now();
    const warm = await this.warmUp(session, signature.value);
    if (!warm.ok) {
      await session.release();
      return warm;
    }
    const warmupMs = performance.now() - started;
    const model = new LoadedModel(
      {
        model: promoted.model,
        alias: promoted.alias,
        version: promoted.version,
        artifactUri: promoted.artifact.uri,
        artifactSha256: promoted.artifact.sha256,
        featureView: promoted.featureView,
        promotedSignature: promoted.signature,
        servingSince: new Date().toISOString(),
        promotionEventId: event.id,
      },
      signature.value,
      session,
      {
        enabled: this.config.MICRO_BATCHING,
        maxWaitMs: this.config.MICRO_BATCH_MAX_WAIT_MS,
        maxRows: this.config.MICRO_BATCH_MAX_ROWS,
      },
      (rows) => this.metrics.sessionRunRows.observe({ model: promoted.model, version: String(promoted.version) }, rows),
      treeExplainersOf(bytes, signature.value),
    );
    return ok({ model, warmupMs });
  }

  /** Runs rows of missing values (one, then a batch) so the first request does not pay for lazy initialisation. */
  private async warmUp(session: ort.InferenceSession, signature: ServingSignature): Promise<Result<void, DeployError>> {
    const blank = Object.fromEntries(featuresOf(signature).map((name) => [name, null]));
    try {
      for (const size of [1, this.config.WARMUP_ROWS]) {
        const rows = encodeRows(
          signature,
          Array.from({ length: size }, () => blank),
        );
        if (!rows.ok) return failed('warmup', 'warmup_failed', rows.error.message);
        const outputs = await runSession(session, signature, rows.value);
        if (outputs.some((output) => !Number.isFinite(output.score)))
          return failed('warmup', 'warmup_failed', 'the model answered a non-finite score for rows of missing values');
      }
      return ok(undefined);
    } catch (error) {
      return failed('warmup', 'warmup_failed', `warm-up run failed: ${(error as Error).message}`);
    }
  }

  private announce(event: CloudEvent): Promise<void> {
    return announce(this.dataSource, this.logger, event);
  }
}

function failed<T>(stage: Stage, errorCode: string, message: string): Result<T, DeployError> {
  return err(domainError('deployment_failed', message, { stage, errorCode }) as DeployError);
}
