import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema, tablesIn } from '@mlops/storage';

/** The messaging tables of a service's schema, as SQL names. */
export const messagingTables = (schema: string) => tablesIn(schema, ['inbox', 'outbox']);

/** Inbox (processed events per consumer) and outbox (events born of a state change) in the service's schema. */
export class MessagingTables1732320000000 implements MigrationInterface {
  name = 'MessagingTables1732320000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = messagingTables(migrationSchema(queryRunner));
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.inbox} (
        consumer     text        NOT NULL,
        source       text        NOT NULL,
        event_id     text        NOT NULL,
        event_type   text        NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, source, event_id)
      )`);
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.outbox} (
        id         bigserial   PRIMARY KEY,
        topic      text        NOT NULL,
        key        text        NOT NULL,
        headers    jsonb       NOT NULL,
        value      bytea       NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = messagingTables(migrationSchema(queryRunner));
    await queryRunner.query(`DROP TABLE IF EXISTS ${t.outbox}`);
    await queryRunner.query(`DROP TABLE IF EXISTS ${t.inbox}`);
  }
}

export const messagingMigrations = [MessagingTables1732320000000];
