import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { EventTypes, type ModelRegisteredV1 } from '@mlops/contracts';
import { type CloudEvent, enqueueInOutbox, newEvent } from '@mlops/messaging';
import { slicesOfTrained, splitSliceMetrics } from '../../domain/policy';
import { CatalogStore, type VersionRecord } from '../../infrastructure/catalog-store';
import { PG_SCHEMA, SOURCE } from '../../tokens';
import { ApplyGateService, type GateOutcome } from '../apply-gate/apply-gate.service';

type Trained = typeof EventTypes.ModelTrainedV1;

export type RegisterOutcome =
  | { readonly registered: false; readonly version: VersionRecord | undefined; readonly refused?: string }
  | { readonly registered: true; readonly version: VersionRecord; readonly gate: GateOutcome };

/**
 * `mlops.model.trained.v1` -> the next immutable version of the model, `mlops.model.registered.v1`, then the
 * promotion gate, all in the inbox transaction. A training run registers one version however often it is announced.
 */
@Injectable()
export class RegisterTrainedService {
  private readonly logger = new Logger('register-trained');

  constructor(
    private readonly catalog: CatalogStore,
    private readonly gate: ApplyGateService,
  ) {}

  async register(event: CloudEvent<Trained>, manager: EntityManager, now = new Date()): Promise<RegisterOutcome> {
    const trained = event.data;
    await this.catalog.ensureModel(
      manager,
      { name: trained.model, task: trained.task, owner: event.source, description: '' },
      now,
    );
    // Serialises version numbering (and the gate) per model across replicas.
    const model = await this.catalog.findModel(manager, trained.model, true);
    if (!model) throw new Error(`model ${trained.model} vanished inside its transaction`);
    if (model.task !== trained.task) {
      // Never registrable: the message controller dead-letters it.
      return {
        registered: false,
        version: undefined,
        refused: `model ${model.name} is a ${model.task} model; run ${trained.trainingRunId} trained ${trained.task}`,
      };
    }
    // Slices come as the trainer's `slices` field; keys `<metric>__<slice>` in metrics are still read.
    const { overall, slices: keyedSlices } = splitSliceMetrics(trained.metrics);
    const slices = { ...keyedSlices, ...slicesOfTrained(trained.slices) };
    const version = await this.catalog.insertVersion(
      manager,
      {
        model: trained.model,
        source: 'trained',
        trainingRunId: trained.trainingRunId,
        task: trained.task,
        algorithm: trained.algorithm,
        description: '',
        tags: {},
        artifact: trained.artifact,
        signature: trained.signature,
        featureView: trained.lineage.featureView,
        metrics: overall,
        sliceMetrics: slices,
        champion: trained.champion ?? null,
        params: trained.params,
        lineage: { ...trained.lineage, trainingRunId: trained.trainingRunId, trainingEventId: event.id },
        referenceDistributions: trained.referenceDistributions,
        predictionDistribution: trained.predictionDistribution ?? null,
        trainedAt: trained.trainedAt,
        createdBy: event.source,
      },
      'registered',
      now,
    );
    if (!version) {
      const existing = await this.catalog.findVersionByRun(manager, trained.trainingRunId);
      this.logger.log(
        `training run ${trained.trainingRunId} is version ${existing?.version ?? '?'} of ${trained.model} already`,
      );
      return { registered: false, version: existing };
    }
    await this.catalog.audit(
      manager,
      {
        actor: event.source,
        action: 'version_registered',
        model: model.name,
        version: version.version,
        reason: `trained by run ${trained.trainingRunId}`,
        details: { source: 'trained', artifactSha256: trained.artifact.sha256 },
      },
      now,
    );
    const registered: ModelRegisteredV1 = {
      model: trained.model,
      version: version.version,
      trainingRunId: trained.trainingRunId,
      task: trained.task,
      algorithm: trained.algorithm,
      artifact: trained.artifact,
      signature: trained.signature,
      metrics: trained.metrics,
      params: trained.params,
      lineage: trained.lineage,
      referenceDistributions: trained.referenceDistributions,
      ...(trained.predictionDistribution ? { predictionDistribution: trained.predictionDistribution } : {}),
      registeredAt: now.toISOString(),
    };
    await enqueueInOutbox(
      manager,
      PG_SCHEMA,
      newEvent(EventTypes.ModelRegisteredV1, registered, {
        source: SOURCE,
        subject: `${trained.model}/${version.version}`,
        causedBy: event,
        time: now,
      }),
    );
    const gate = await this.gate.apply(manager, model, version, now, event);
    return { registered: true, version, gate };
  }
}
