import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema, tablesIn } from '@mlops/storage';

/** The subscriptions table as an SQL name; its columns are declared by the migration below only. */
export const subscriptionTables = (schema: string) => tablesIn(schema, ['topic_subscriptions']);

/** Datasets fed from topics owned by upstream teams: one row per dataset and topic, with its mapping. */
export class TopicSubscriptions1764600000000 implements MigrationInterface {
  name = 'TopicSubscriptions1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = subscriptionTables(migrationSchema(queryRunner));
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.topic_subscriptions} (
        dataset     text        NOT NULL,
        topic       text        NOT NULL,
        format      text        NOT NULL CHECK (format IN ('json', 'debezium')),
        entity_key  jsonb       NOT NULL,
        event_time  jsonb       NOT NULL,
        deletes     text        NOT NULL CHECK (deletes IN ('skip', 'tombstone')),
        start_at    text        NOT NULL CHECK (start_at IN ('latest', 'earliest')),
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (dataset, topic)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = subscriptionTables(migrationSchema(queryRunner));
    await queryRunner.query(`DROP TABLE IF EXISTS ${t.topic_subscriptions}`);
  }
}
