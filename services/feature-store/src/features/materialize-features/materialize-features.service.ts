import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { type DataValidatedV1, EventTypes } from '@mlops/contracts';
import { type CloudEvent, PermanentHandlerError } from '@mlops/messaging';
import { applyRecord } from '../../domain';
import { CatalogStore } from '../../infrastructure/catalog-store';
import { WriteBehind } from '../../infrastructure/write-behind';
import { materializedEvent } from './materialized-event';

const VALIDATED = EventTypes.DataValidatedV1;

/**
 * A validated record of a features dataset through every view over it (newest version each): state and online
 * vector in the inbox transaction, the offline row in ClickHouse, the new latest vector through the outbox.
 */
@Injectable()
export class MaterializeFeaturesService {
  constructor(
    private readonly catalog: CatalogStore,
    private readonly writes: WriteBehind,
  ) {}

  /**
   * `position`: where the event was read (its partition and offset order the records of an entity for a later
   * backfill); `transactionEvents`: the events sharing the transaction, whose entities' states are read in one go.
   */
  async materialize(
    event: CloudEvent<typeof VALIDATED>,
    manager: EntityManager,
    position: { partition: number; offset: string },
    transactionEvents: readonly CloudEvent[] = [event],
  ): Promise<void> {
    const data: DataValidatedV1 = event.data;
    // The clock is read after the dataset lock: a backfill holding it exclusively sees every earlier record.
    await this.writes.memo(manager, `dataset-lock:${data.dataset}`, () =>
      this.catalog.lockDatasetShared(manager, data.dataset),
    );
    const now = new Date();
    // Kept for the backfill of views created later, whether or not a view reads the dataset now.
    this.writes.addSourceRecord(manager, {
      dataset: data.dataset,
      entityId: data.entityId,
      eventTime: data.eventTime,
      createdAt: now,
      ...(data.knownAt !== undefined ? { knownAt: data.knownAt } : {}),
      recordId: data.recordId ?? data.sourceEventId,
      record: data.record,
      sourceEventId: event.id,
      sourcePartition: position.partition,
      sourceOffset: position.offset,
    });
    const views = await this.writes.memo(manager, `views-of:${data.dataset}`, () =>
      this.catalog.latestViewsOf(data.dataset, manager),
    );
    await this.writes.memo(manager, `states-of:${data.dataset}`, () => {
      const entities = new Set<string>();
      for (const other of transactionEvents) {
        if (other.type !== VALIDATED) continue;
        const d = other.data as DataValidatedV1;
        if (d.dataset === data.dataset && d.role === 'features') entities.add(d.entityId);
      }
      return this.writes.preloadStates(
        manager,
        views.flatMap((view) =>
          [...entities].map((entityId) => ({ viewName: view.name, viewVersion: view.version, entityId })),
        ),
      );
    });
    for (const view of views) {
      const state = await this.writes.stateForUpdate(manager, view.name, view.version, data.entityId);
      // recordId when upstream has one: the same record under another event id is then counted once.
      const applied = applyRecord(
        view,
        { id: data.recordId ?? data.sourceEventId, eventTime: data.eventTime, fields: data.record },
        state,
      );
      if (!applied.ok)
        throw new PermanentHandlerError(
          `record of ${data.dataset}/${data.entityId} cannot feed ${view.name}@${view.version}: ${applied.error}`,
        );
      const effect = applied.value;
      if (!effect) continue; // a duplicate
      this.writes.putState(manager, {
        viewName: view.name,
        viewVersion: view.version,
        entityId: data.entityId,
        state: effect.state,
        updatedAt: now,
      });
      // Into ClickHouse just before the commit, at least once: the table keeps one row per source event.
      this.writes.addFeatureRow(manager, {
        viewName: view.name,
        viewVersion: view.version,
        entityId: data.entityId,
        eventTime: data.eventTime,
        createdAt: now,
        features: effect.row,
        sourceEventId: event.id,
      });
      if (!effect.vector) continue;
      this.writes.putVector(manager, {
        viewName: view.name,
        viewVersion: view.version,
        entityId: data.entityId,
        features: effect.vector.features,
        eventTime: new Date(effect.vector.eventTimeMs),
        sourceEventId: event.id,
        updatedAt: now,
      });
      this.writes.addEvent(manager, materializedEvent(view, data.entityId, effect.vector, event.id, now, event));
    }
  }
}
