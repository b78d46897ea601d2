import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@mlops/storage';
import { TopicSubscriptions1764600000000 } from './subscription-migrations';
import { ingestionTables } from './tables';

/** Dataset versions and the bounded table of accepted record ids. */
export class IngestionTables1763900000000 implements MigrationInterface {
  name = 'IngestionTables1763900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = ingestionTables(migrationSchema(queryRunner));
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.dataset_versions} (
        dataset          text        NOT NULL,
        version          integer     NOT NULL CHECK (version >= 1),
        role             text        NOT NULL CHECK (role IN ('features', 'labels')),
        record_schema    jsonb       NOT NULL,
        entity_key_field text        NOT NULL,
        event_time_field text        NOT NULL,
        label_field      text,
        sensitive_fields jsonb       NOT NULL DEFAULT '{}',
        description      text,
        owner            text,
        registered_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (dataset, version)
      )`);
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.accepted_records} (
        dataset     text        NOT NULL,
        record_id   text        NOT NULL,
        event_id    text        NOT NULL,
        accepted_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (dataset, record_id)
      )`);
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS accepted_records_accepted_at ON ${t.accepted_records} (accepted_at)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = ingestionTables(migrationSchema(queryRunner));
    await queryRunner.query(`DROP TABLE IF EXISTS ${t.accepted_records}`);
    await queryRunner.query(`DROP TABLE IF EXISTS ${t.dataset_versions}`);
  }
}

export const ingestionMigrations = [IngestionTables1763900000000, TopicSubscriptions1764600000000];
