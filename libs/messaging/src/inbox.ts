import type { EntityManager } from 'typeorm';
import type { CloudEvent } from './cloud-event';

/**
 * Records that a consumer processed an event, inside the transaction of its effect.
 * Returns false when the same source+id was already processed: the redelivery must be a no-op.
 */
export async function claimInInbox(manager: EntityManager, schema: string, consumer: string, event: CloudEvent): Promise<boolean> {
  const rows: unknown[] = await manager.query(
    `INSERT INTO "${schema}".inbox (consumer, source, event_id, event_type) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING RETURNING 1`,
    [consumer, event.source, event.id, event.type],
  );
  return rows.length === 1;
}
