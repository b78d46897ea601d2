import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { EventTypes } from '@mlops/contracts';
import type { CloudEvent } from '@mlops/messaging';
import { CatalogStore } from '../infrastructure/catalog-store';
import { WriteBehind } from '../infrastructure/write-behind';

type Validated = typeof EventTypes.DataValidatedV1;

/** A record of a labels dataset into the offline label history (without its sensitive fields). */
@Injectable()
export class AppendLabelService {
  constructor(
    private readonly catalog: CatalogStore,
    private readonly writes: WriteBehind,
  ) {}

  async append(event: CloudEvent<Validated>, manager: EntityManager, now = new Date()): Promise<void> {
    const { dataset, entityId, eventTime, record } = event.data;
    const sensitive = new Set((await this.catalog.dataset(dataset, manager))?.sensitiveFields ?? []);
    const kept = Object.fromEntries(Object.entries(record).filter(([field]) => !sensitive.has(field)));
    // The label id is the event id: a row written twice (a failed commit after the insert) is read once.
    this.writes.addLabelRow(manager, {
      dataset,
      entityId,
      eventTime,
      createdAt: now,
      record: kept,
      sourceEventId: event.id,
    });
  }
}
