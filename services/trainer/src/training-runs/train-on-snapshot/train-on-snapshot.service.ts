import { randomUUID } from 'node:crypto';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { type ArtifactStore, ArtifactIntegrityError, ArtifactNotFoundError, digestOf } from '@mlops/artifacts';
import { EventTypes, type ModelTrainedV1 } from '@mlops/contracts';
import { type CloudEvent, enqueueInOutbox, newEvent } from '@mlops/messaging';
import type { TrainerConfig } from '../../config';
import type { ChampionEvaluation } from '../../domain/champion';
import type { SnapshotColumn, TrainingError } from '../../domain/snapshot-table';
import type { TaskName } from '../../domain/training-job';
import { type Champion, ChampionStore } from '../../infrastructure/champion-store';
import { type RunFailure, RunStore, type TrainingRun } from '../../infrastructure/run-store';
import { TrainingMetrics } from '../../infrastructure/training-metrics';
import { type TrainedOutcome, TrainingRunner } from '../../infrastructure/training-runner';
import { ARTIFACT_STORE, PG_SCHEMA, SOURCE, TRAINER_CONFIG } from '../../tokens';
import { type TrainingRecord, TrainingTracking } from '../../tracking/training-tracking';
import { failRun } from '../fail-run';

type Created = typeof EventTypes.DatasetSnapshotCreatedV1;

const ONNX_MEDIA_TYPE = 'application/onnx';

/**
 * The snapshot of a waiting run arrived: the run becomes 'training' (in the inbox transaction) and a trainer of
 * this service claims it, reads and verifies the snapshot, trains in a worker thread, stores the ONNX artifact and
 * announces `mlops.model.trained.v1` or `mlops.training.failed.v1`. A run is claimed with a lease renewed while it
 * trains; a run whose trainer stopped is taken over when the lease lapses (resumed: training is deterministic), up
 * to TRAINING_MAX_ATTEMPTS.
 */
@Injectable()
export class TrainOnSnapshotService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('training');
  private readonly owner = `trainer-${randomUUID()}`;
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> | undefined;
  private stopping = false;
  /** Trainings finished by this process (tests read it). */
  trainings = 0;

  constructor(
    private readonly runs: RunStore,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    @Inject(TRAINER_CONFIG) private readonly config: TrainerConfig,
    private readonly runner: TrainingRunner,
    private readonly tracking: TrainingTracking,
    private readonly metrics: TrainingMetrics,
    private readonly champions: ChampionStore,
  ) {}

  /** In the inbox transaction: a snapshot for a run that waits for it. Anything else changes nothing. */
  async accept(event: CloudEvent<Created>, manager: EntityManager, now = new Date()): Promise<boolean> {
    const snapshot = event.data;
    const run = await this.runs.find(manager, snapshot.trainingRunId, true);
    if (!run || run.snapshotId !== snapshot.snapshotId || run.status !== 'waiting_for_snapshot') {
      this.logger.log(
        `snapshot ${snapshot.snapshotId}: no run waits for it (run ${snapshot.trainingRunId}: ${run?.status ?? 'unknown'})`,
      );
      return false;
    }
    await this.runs.markTraining(manager, run.id, snapshot, now);
    this.nudge(100);
    return true;
  }

  onApplicationBootstrap(): void {
    // Runs a stopped process left in 'training' are claimed once their lease lapses.
    this.nudge(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    await this.busy;
  }

  private nudge(delayMs: number): void {
    if (this.stopping || this.busy) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.busy = this.drain()
        .catch((error: unknown) =>
          this.logger.error(`training loop: ${error instanceof Error ? error.message : String(error)}`),
        )
        .finally(() => {
          this.busy = undefined;
          this.nudge(this.config.TRAINING_POLL_MS);
        });
    }, delayMs);
  }

  /** Trains the claimable runs one after the other. */
  private async drain(): Promise<void> {
    while (!this.stopping) {
      const run = await this.runs.claim(this.owner, this.config.TRAINING_LEASE_MS);
      if (!run) return;
      await this.train(run);
    }
  }

  private async train(run: TrainingRun): Promise<void> {
    try {
      await this.trainClaimed(run);
    } finally {
      this.metrics.released(run.id, run.request.model);
    }
  }

  private async trainClaimed(run: TrainingRun): Promise<void> {
    const snapshot = run.snapshot;
    if (!snapshot) return;
    const started = Date.now();
    if (run.attempt > this.config.TRAINING_MAX_ATTEMPTS) {
      await this.fail(run, {
        stage: 'training',
        errorCode: 'training_interrupted',
        message: `the run was interrupted ${run.attempt - 1} times (the trainer stopped while training it); request it again`,
        retryable: true,
      });
      return;
    }
    this.logger.log(
      `run ${run.id}: training ${run.request.model} on snapshot ${snapshot.snapshotId} (attempt ${run.attempt})`,
    );
    await this.tracking.started(this.runs.dataSource.manager, run.id);
    const bytes = await this.readSnapshot(run);
    if (!bytes) return;
    const champion = await this.loadChampion(run);

    let progress = 0;
    let reported = -10;
    const heartbeat = setInterval(
      () =>
        void this.runs.heartbeat(run.id, this.owner, this.config.TRAINING_LEASE_MS, progress).catch(() => undefined),
      Math.min(1_000, this.config.TRAINING_LEASE_MS / 3),
    );
    let outcome;
    try {
      outcome = await this.runner.run(
        {
          snapshot: bytes,
          columns: snapshot.columns as SnapshotColumn[],
          job: {
            task: run.request.task as TaskName,
            algorithm: run.request.algorithm ?? 'gradient_boosting',
            params: run.request.params ?? {},
            holdoutFraction: run.request.holdoutFraction ?? 0.2,
            modelName: run.request.model,
            codeVersion: this.config.CODE_VERSION,
            ...(run.request.search ? { search: run.request.search } : {}),
            ...(run.request.sliceBy ? { sliceBy: run.request.sliceBy } : {}),
          },
          ...(champion && 'onnx' in champion.load
            ? { champion: { onnx: champion.load.onnx, signature: champion.record.signature } }
            : {}),
        },
        (fraction) => {
          progress = fraction;
          this.metrics.progress(run.id, run.request.model, fraction);
          const percent = Math.floor(fraction * 100);
          if (percent >= reported + 10) {
            reported = percent;
            this.logger.log(`run ${run.id}: ${percent}% trained`);
          }
        },
      );
    } finally {
      clearInterval(heartbeat);
    }
    if (!outcome.ok) {
      await this.fail(run, failureOf(outcome.error));
      return;
    }
    let stored;
    let sample;
    try {
      stored = await this.artifacts.put(outcome.value.onnx, {
        mediaType: ONNX_MEDIA_TYPE,
        name: `${run.request.model}.onnx`,
      });
      // The reference sample is too large for an event: it goes to the store, the event names it.
      sample = await this.artifacts.put(Buffer.from(JSON.stringify(outcome.value.referenceSample), 'utf8'), {
        mediaType: 'application/json',
        name: `${run.request.model}.reference-sample.json`,
      });
    } catch (error) {
      // The store is down or refuses: the lease lapses and the run is tried again, as after a restart.
      this.logger.error(
        `run ${run.id}: storing the model failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    const trained = trainedEvent(run, outcome.value, stored, this.config.CODE_VERSION, Date.now() - started, {
      ...sample,
      rows: outcome.value.referenceSample.sampleRows,
    });
    if (champion) {
      const evaluation: ChampionEvaluation =
        'skipped' in champion.load
          ? champion.load
          : (outcome.value.champion ?? { skipped: 'the champion was not scored' });
      trained.champion = {
        alias: champion.record.alias,
        version: champion.record.version,
        ...('metrics' in evaluation
          ? { metrics: evaluation.metrics, evaluatedOn: 'candidate_holdout' as const }
          : { skipped: evaluation.skipped }),
      };
    }
    const finished = await this.runs.dataSource.transaction(async (manager) => {
      const result = {
        ...trained,
        calibration: outcome.value.calibration,
        history: outcome.value.history,
        parity: outcome.value.parity,
        search: outcome.value.search,
      };
      if (!(await this.runs.finish(manager, run.id, this.owner, { status: 'succeeded', result }, new Date())))
        return false;
      await this.tracking.succeeded(
        manager,
        run.id,
        trackingRecordOf(outcome.value, stored, sample, run.request.model, trained.lineage),
        new Date(),
      );
      await enqueueInOutbox(
        manager,
        PG_SCHEMA,
        newEvent(EventTypes.ModelTrainedV1, trained, { source: SOURCE, subject: run.id }),
      );
      return true;
    });
    if (finished) {
      this.trainings += 1;
      this.metrics.finished(run.request.model, 'succeeded');
      this.logger.log(`run ${run.id}: ${run.request.model} trained, ${stored.uri} (${stored.sizeBytes} bytes)`);
    }
  }

  /** The snapshot's bytes, verified against the sha256 the event announced; undefined after failing the run. */
  private async readSnapshot(run: TrainingRun): Promise<Buffer | undefined> {
    const snapshot = run.snapshot as NonNullable<TrainingRun['snapshot']>;
    const mismatch = (detail: string): RunFailure => ({
      stage: 'snapshot',
      errorCode: 'snapshot_hash_mismatch',
      message: `snapshot ${snapshot.snapshotId} at ${snapshot.uri} does not match its sha256 ${snapshot.sha256}: ${detail}; the file is corrupt, request the training again to rebuild it`,
      retryable: true,
    });
    try {
      if (digestOf(snapshot.uri) !== snapshot.sha256) {
        await this.fail(run, mismatch('the address names another digest'));
        return undefined;
      }
      return await this.artifacts.get(snapshot.uri);
    } catch (error) {
      if (error instanceof ArtifactIntegrityError) await this.fail(run, mismatch(`read ${error.actualSha256}`));
      else if (error instanceof ArtifactNotFoundError)
        await this.fail(run, {
          stage: 'snapshot',
          errorCode: 'snapshot_not_found',
          message: `snapshot ${snapshot.snapshotId} is not in the artifact store at ${snapshot.uri}`,
          retryable: true,
        });
      else
        this.logger.error(
          `run ${run.id}: reading the snapshot failed, retried later: ${error instanceof Error ? error.message : String(error)}`,
        );
      return undefined;
    }
  }

  /**
   * The champion of the run's model (the version TRAINING_CHAMPION_ALIAS points at) and its ONNX bytes, verified
   * against the promoted sha256; undefined when the model has none. A champion that cannot be read is `skipped` with
   * the reason: the candidate still trains, the gate then compares with the stored metrics.
   */
  private async loadChampion(
    run: TrainingRun,
  ): Promise<{ record: Champion; load: { onnx: Uint8Array } | { skipped: string } } | undefined> {
    const record = await this.champions.find(
      this.runs.dataSource.manager,
      run.request.model,
      this.config.TRAINING_CHAMPION_ALIAS,
    );
    if (!record) return undefined;
    const { uri, sha256 } = record.artifact;
    const name = `${record.model} version ${record.version} (${record.alias})`;
    try {
      if (digestOf(uri) !== sha256)
        return { record, load: { skipped: `the artifact of ${name} at ${uri} does not name its sha256 ${sha256}` } };
      return { record, load: { onnx: await this.artifacts.get(uri) } };
    } catch (error) {
      const skipped =
        error instanceof ArtifactIntegrityError
          ? `the artifact of ${name} at ${uri} is corrupt: it hashes to ${error.actualSha256}, not ${sha256}`
          : error instanceof ArtifactNotFoundError
            ? `the artifact of ${name} is not in the artifact store at ${uri}`
            : `the artifact of ${name} could not be read: ${error instanceof Error ? error.message : String(error)}`;
      this.logger.warn(`run ${run.id}: champion not scored: ${skipped}`);
      return { record, load: { skipped } };
    }
  }

  private async fail(run: TrainingRun, failure: RunFailure): Promise<void> {
    this.logger.warn(`run ${run.id}: failed (${failure.errorCode}): ${failure.message}`);
    this.metrics.finished(run.request.model, 'failed');
    await this.runs.dataSource.transaction((manager) =>
      failRun(
        this.runs,
        this.tracking,
        manager,
        { id: run.id, model: run.model, attempt: run.attempt, snapshotId: run.snapshotId },
        this.owner,
        failure,
        undefined,
        new Date(),
      ),
    );
  }
}

/**
 * The tracked run's side of a trained model: params used, metrics, the boosting curve by step, the ONNX file, and
 * tags naming its training data (the snapshot, and its datasets with their schema versions when known), so runs can
 * be searched by it (`tags.mlops.snapshot_sha256 = '...'`).
 */
function trackingRecordOf(
  outcome: TrainedOutcome,
  stored: { uri: string; sha256: string; sizeBytes: number },
  sample: { uri: string; sha256: string; sizeBytes: number },
  model: string,
  lineage: ModelTrainedV1['lineage'],
): TrainingRecord {
  const datasets = lineage.datasetVersions;
  const series: Array<{ key: string; step: number; value: number }> = [];
  for (const step of outcome.history) {
    series.push({ key: 'train_loss', step: step.iteration, value: step.trainLoss });
    if (step.validationLoss !== null)
      series.push({ key: 'validation_loss', step: step.iteration, value: step.validationLoss });
  }
  return {
    params: outcome.params,
    metrics: outcome.metrics,
    series,
    model: { ...stored, mediaType: ONNX_MEDIA_TYPE, path: `model/${model}.onnx` },
    extraArtifacts: [{ ...sample, mediaType: 'application/json', path: 'reference/sample.json' }],
    tags: {
      'mlops.model_uri': stored.uri,
      'mlops.model_sha256': stored.sha256,
      'mlops.snapshot_id': lineage.snapshotId,
      'mlops.snapshot_sha256': lineage.snapshotSha256,
      ...(datasets
        ? {
            'mlops.features_dataset': `${datasets.features.dataset}@${datasets.features.version}`,
            'mlops.labels_dataset': `${datasets.labels.dataset}@${datasets.labels.version}`,
          }
        : {}),
    },
    // The training set as an MLflow dataset input: named after its view, identified by its sha256 (MLflow's digests
    // are short: its first 16 hex digits), its source the snapshot in the artifact store.
    inputs: [
      {
        dataset: {
          name: `${lineage.featureView.name}-v${lineage.featureView.version}`,
          digest: lineage.snapshotSha256.slice(0, 16),
          sourceType: 'mlops_snapshot',
          source: JSON.stringify({ uri: lineage.snapshotUri, sha256: lineage.snapshotSha256 }),
        },
        tags: [{ key: 'mlflow.data.context', value: 'training' }],
      },
    ],
    search: outcome.search,
  };
}

function failureOf(error: TrainingError): RunFailure {
  return {
    stage: error.details.stage,
    errorCode: error.kind,
    message: error.message,
    retryable: error.details.retryable,
  };
}

function trainedEvent(
  run: TrainingRun,
  outcome: TrainedOutcome,
  stored: { uri: string; sha256: string; sizeBytes: number },
  codeVersion: string,
  durationMs: number,
  sample: { uri: string; sha256: string; sizeBytes: number; rows: number },
): ModelTrainedV1 {
  const snapshot = run.snapshot as NonNullable<TrainingRun['snapshot']>;
  return {
    trainingRunId: run.id,
    model: run.request.model,
    task: run.request.task,
    algorithm: outcome.algorithm,
    artifact: { uri: stored.uri, sha256: stored.sha256, format: 'onnx', sizeBytes: stored.sizeBytes },
    signature: {
      inputName: outcome.signature.inputName,
      inputDtype: outcome.signature.inputDtype,
      featureNames: [...outcome.signature.featureNames],
      outputName: outcome.signature.outputName,
      inputs: outcome.signature.inputs.map((input) => ({
        name: input.name,
        dtype: input.dtype,
        features: [...input.features],
      })),
      outputs: outcome.signature.outputs.map((output) => ({
        name: output.name,
        dtype: output.dtype,
        shape: [...output.shape],
      })),
    },
    metrics: outcome.metrics,
    params: outcome.params,
    lineage: {
      snapshotId: snapshot.snapshotId,
      snapshotUri: snapshot.uri,
      snapshotSha256: snapshot.sha256,
      codeVersion,
      featureView: run.request.featureView,
      labels: run.request.labels,
      trainingWindow: run.request.trainingWindow,
      rows: outcome.rows,
      ...(snapshot.datasetVersions ? { datasetVersions: snapshot.datasetVersions } : {}),
    },
    referenceDistributions: outcome.referenceDistributions,
    predictionDistribution: outcome.predictionDistribution,
    ...(outcome.slices ? { slices: outcome.slices } : {}),
    referenceSample: {
      uri: sample.uri,
      sha256: sample.sha256,
      sizeBytes: sample.sizeBytes,
      format: 'json',
      rows: sample.rows,
    },
    trainedAt: new Date().toISOString(),
    durationMs,
  };
}
