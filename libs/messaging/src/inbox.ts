import type { EntityManager } from 'typeorm';
import { query } from '@mlops/storage';
import type { CloudEvent } from './cloud-event';
import { messagingTables } from './migrations';

/**
 * Records that a consumer processed an event, inside the transaction of its effect.
 * Returns false when the same source+id was already processed: the redelivery must be a no-op.
 */
export async function claimInInbox(
  manager: EntityManager,
  schema: string,
  consumer: string,
  event: CloudEvent,
): Promise<boolean> {
  const rows = await query<{ claimed: number }>(
    manager,
    `INSERT INTO ${messagingTables(schema).inbox} (consumer, source, event_id, event_type) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING RETURNING 1 AS claimed`,
    [consumer, event.source, event.id, event.type],
  );
  return rows.length === 1;
}

/** Claims several events in one statement; returns the `source\u0000id` of those not processed before. */
export async function claimManyInInbox(
  manager: EntityManager,
  schema: string,
  consumer: string,
  events: readonly CloudEvent[],
): Promise<Set<string>> {
  const rows = await query<{ source: string; event_id: string }>(
    manager,
    `INSERT INTO ${messagingTables(schema).inbox} (consumer, source, event_id, event_type)
     SELECT $1, u.source, u.event_id, u.event_type FROM unnest($2::text[], $3::text[], $4::text[]) AS u(source, event_id, event_type)
     ON CONFLICT DO NOTHING RETURNING source, event_id`,
    [consumer, events.map((e) => e.source), events.map((e) => e.id), events.map((e) => e.type)],
  );
  return new Set(rows.map((r) => inboxKey(r.source, r.event_id)));
}

export function inboxKey(source: string, id: string): string {
  return `${source}\u0000${id}`;
}
