import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { EventTypes } from '@mlops/contracts';
import type { CloudEvent } from '@mlops/messaging';
import {
  dataQualityRow,
  deploymentRow,
  featureStreamRow,
  labelRow,
  predictionRow,
  referenceRows,
  registryEventRow,
} from '../../domain';
import { MonitorTables } from '../../infrastructure/clickhouse-tables';
import { MonitorStore } from '../../infrastructure/monitor-store';
import { ClickHouseSink } from '../../infrastructure/sink';

type T = typeof EventTypes;

/** Every event the monitor consumes becomes rows of its ClickHouse tables (batched per inbox transaction). */
@Injectable()
export class RecordEventsService {
  constructor(
    private readonly sink: ClickHouseSink,
    private readonly store: MonitorStore,
  ) {}

  prediction(manager: EntityManager, event: CloudEvent<T['PredictionLoggedV1']>): void {
    this.sink.add(manager, MonitorTables.predictions, predictionRow(event.id, event.time, event.data));
  }

  features(manager: EntityManager, event: CloudEvent<T['FeaturesMaterializedV1']>): void {
    this.sink.add(manager, MonitorTables.featureStream, featureStreamRow(event.id, event.data));
  }

  /** Only records of label datasets: feature records reach the monitor as the feature stream. */
  validated(manager: EntityManager, event: CloudEvent<T['DataValidatedV1']>): void {
    if (event.data.role === 'labels') this.sink.add(manager, MonitorTables.labels, labelRow(event.id, event.data));
  }

  quality(manager: EntityManager, event: CloudEvent<T['DataQualityV1']>): void {
    this.sink.add(manager, MonitorTables.dataQuality, dataQualityRow(event.id, event.data));
  }

  deploymentSucceeded(manager: EntityManager, event: CloudEvent<T['DeploymentSucceededV1']>): void {
    this.sink.add(manager, MonitorTables.deployments, deploymentRow(event.id, { succeeded: event.data }));
  }

  deploymentFailed(manager: EntityManager, event: CloudEvent<T['DeploymentFailedV1']>): void {
    this.sink.add(manager, MonitorTables.deployments, deploymentRow(event.id, { failed: event.data }));
  }

  promoted(manager: EntityManager, event: CloudEvent<T['ModelPromotedV1']>): void {
    const d = event.data;
    this.sink.add(
      manager,
      MonitorTables.registryEvents,
      registryEventRow(event.id, {
        kind: 'promoted',
        model: d.model,
        version: d.version,
        alias: d.alias,
        trigger: d.trigger,
        at: d.promotedAt,
        detail: { previousVersion: d.previousVersion, reason: d.reason, gate: d.gate },
      }),
    );
  }

  /** The lineage a training request needs; the model's in-flight request ends when this is its run. */
  async trained(manager: EntityManager, event: CloudEvent<T['ModelTrainedV1']>): Promise<void> {
    const d = event.data;
    await this.store.saveLineage(manager, d);
    await this.store.clearInFlight(manager, d.model, d.trainingRunId);
    this.sink.add(
      manager,
      MonitorTables.registryEvents,
      registryEventRow(event.id, {
        kind: 'trained',
        model: d.model,
        trainingRunId: d.trainingRunId,
        at: d.trainedAt,
        detail: { metrics: d.metrics, algorithm: d.algorithm, rows: d.lineage.rows },
      }),
    );
  }

  async trainingFailed(manager: EntityManager, event: CloudEvent<T['TrainingFailedV1']>): Promise<void> {
    const d = event.data;
    await this.store.clearInFlight(manager, d.model, d.trainingRunId);
    this.sink.add(
      manager,
      MonitorTables.registryEvents,
      registryEventRow(event.id, {
        kind: 'training_failed',
        model: d.model,
        trainingRunId: d.trainingRunId,
        at: d.failedAt,
        detail: { stage: d.stage, errorCode: d.errorCode, retryable: d.retryable },
      }),
    );
  }

  /** A version's reference distributions (drift is measured against them) and its label source. */
  async registered(manager: EntityManager, event: CloudEvent<T['ModelRegisteredV1']>): Promise<void> {
    const d = event.data;
    await this.store.saveVersion(manager, d);
    for (const row of referenceRows(d)) this.sink.add(manager, MonitorTables.references, row);
    this.sink.add(
      manager,
      MonitorTables.registryEvents,
      registryEventRow(event.id, {
        kind: 'registered',
        model: d.model,
        version: d.version,
        trainingRunId: d.trainingRunId,
        at: d.registeredAt,
        detail: { metrics: d.metrics },
      }),
    );
  }
}
