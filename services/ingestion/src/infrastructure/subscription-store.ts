import type { DataSource, EntityManager } from 'typeorm';
import { execute, query, queryOne, schemaOf } from '@mlops/storage';
import type {
  DeleteRule,
  EntityKeySource,
  EventTimeSource,
  StartPosition,
  Subscription,
  SubscriptionFormat,
} from '../subscriptions/subscription';
import { subscriptionTables } from './subscription-migrations';

/** A row of topic_subscriptions (see subscription-migrations.ts). */
interface SubscriptionRow {
  dataset: string;
  topic: string;
  format: string;
  entity_key: EntityKeySource;
  event_time: EventTimeSource;
  deletes: string;
  start_at: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'dataset, topic, format, entity_key, event_time, deletes, start_at, created_at, updated_at';

/** Subscriptions of datasets to upstream topics, in ingestion's Postgres schema. */
export class SubscriptionStore {
  private readonly table: string;

  constructor(private readonly dataSource: DataSource) {
    this.table = subscriptionTables(schemaOf(dataSource)).topic_subscriptions;
  }

  async all(): Promise<Subscription[]> {
    const rows = await query<SubscriptionRow>(
      this.dataSource.manager,
      `SELECT ${COLUMNS} FROM ${this.table} ORDER BY dataset, topic`,
    );
    return rows.map(toDomain);
  }

  async ofDataset(dataset: string): Promise<Subscription[]> {
    const rows = await query<SubscriptionRow>(
      this.dataSource.manager,
      `SELECT ${COLUMNS} FROM ${this.table} WHERE dataset = $1 ORDER BY topic`,
      [dataset],
    );
    return rows.map(toDomain);
  }

  async find(
    dataset: string,
    topic: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<Subscription | undefined> {
    const row = await queryOne<SubscriptionRow>(
      manager,
      `SELECT ${COLUMNS} FROM ${this.table} WHERE dataset = $1 AND topic = $2 FOR UPDATE`,
      [dataset, topic],
    );
    return row ? toDomain(row) : undefined;
  }

  /** Inserts or replaces the mapping; created_at stays, updated_at tells the replicas to restart the consumer. */
  async upsert(
    manager: EntityManager,
    s: Omit<Subscription, 'createdAt' | 'updatedAt'>,
    now: Date,
  ): Promise<Subscription> {
    const row = await queryOne<SubscriptionRow>(
      manager,
      `INSERT INTO ${this.table} (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
       ON CONFLICT (dataset, topic) DO UPDATE SET format = EXCLUDED.format, entity_key = EXCLUDED.entity_key,
         event_time = EXCLUDED.event_time, deletes = EXCLUDED.deletes, updated_at = EXCLUDED.updated_at
       RETURNING ${COLUMNS}`,
      [s.dataset, s.topic, s.format, JSON.stringify(s.entityKey), JSON.stringify(s.eventTime), s.deletes, s.start, now],
    );
    return toDomain(row!);
  }

  /** Returns whether there was such a subscription. */
  async delete(dataset: string, topic: string): Promise<boolean> {
    return (
      (await execute(this.dataSource.manager, `DELETE FROM ${this.table} WHERE dataset = $1 AND topic = $2`, [
        dataset,
        topic,
      ])) > 0
    );
  }
}

function toDomain(row: SubscriptionRow): Subscription {
  return {
    dataset: row.dataset,
    topic: row.topic,
    format: row.format as SubscriptionFormat,
    entityKey: row.entity_key,
    eventTime: row.event_time,
    deletes: row.deletes as DeleteRule,
    start: row.start_at as StartPosition,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}
