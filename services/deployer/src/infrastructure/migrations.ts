import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@mlops/storage';
import { deployerPgTables } from './tables';

/**
 * Batch scoring jobs, shared by the replicas: any of them answers GET /batch-scores/:id, and a request id is one job
 * across them. The replica running a job (instance_id) writes its progress and a heartbeat.
 */
export class DeployerTables1764900000000 implements MigrationInterface {
  name = 'DeployerTables1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = deployerPgTables(migrationSchema(queryRunner));
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.batch_score_jobs} (
        id           text        PRIMARY KEY,
        model        text        NOT NULL,
        version      integer     NOT NULL CHECK (version >= 1),
        input        jsonb       NOT NULL,
        status       text        NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
        phase        text        NOT NULL CHECK (phase IN ('exporting', 'scoring', 'done')),
        rows_file    jsonb,
        rows_total   bigint,
        rows_scored  bigint      NOT NULL DEFAULT 0,
        result       jsonb,
        error        jsonb,
        started_at   timestamptz NOT NULL,
        finished_at  timestamptz,
        instance_id  text        NOT NULL,
        heartbeat_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = deployerPgTables(migrationSchema(queryRunner));
    await queryRunner.query(`DROP TABLE IF EXISTS ${t.batch_score_jobs}`);
  }
}

export const deployerMigrations = [DeployerTables1764900000000];
