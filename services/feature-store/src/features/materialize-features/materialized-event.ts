import { EventTypes } from '@mlops/contracts';
import { type CloudEvent, newEvent } from '@mlops/messaging';
import type { FeatureView, RecordEffect } from '../../domain';
import { SOURCE } from '../../tokens';

const MATERIALIZED = EventTypes.FeaturesMaterializedV1;

/** The announcement of an entity's new online vector (caused by the record's event when it is live). */
export function materializedEvent(
  view: Pick<FeatureView, 'name' | 'version'>,
  entityId: string,
  vector: NonNullable<RecordEffect['vector']>,
  sourceEventId: string,
  now: Date,
  causedBy?: CloudEvent,
): CloudEvent<typeof MATERIALIZED> {
  return newEvent(
    MATERIALIZED,
    {
      featureView: { name: view.name, version: view.version },
      entityId,
      features: vector.features,
      eventTime: new Date(vector.eventTimeMs).toISOString(),
      materializedAt: now.toISOString(),
      sourceEventId,
    },
    { source: SOURCE, subject: view.name, time: now, ...(causedBy ? { causedBy } : {}) },
  );
}
