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

/**
 * A job lost with its replica is taken over by another: `attempts` counts its runs (the first one included), up to
 * `max_attempts` (the setting of the replica that took the request: every replica holds a job to the same limit; 1 for
 * the jobs of earlier versions), `released_at` is when a stopping replica handed it over; the index finds the silent running jobs each heartbeat
 * looks for.
 */
export class BatchJobAttempts1765000000000 implements MigrationInterface {
  name = 'BatchJobAttempts1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = deployerPgTables(migrationSchema(queryRunner));
    await queryRunner.query(
      `ALTER TABLE ${t.batch_score_jobs}
         ADD COLUMN IF NOT EXISTS attempts integer NOT NULL DEFAULT 1 CHECK (attempts >= 1),
         ADD COLUMN IF NOT EXISTS max_attempts integer NOT NULL DEFAULT 1 CHECK (max_attempts >= 1),
         ADD COLUMN IF NOT EXISTS released_at timestamptz`,
    );
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS batch_score_jobs_running ON ${t.batch_score_jobs} (heartbeat_at) WHERE status = 'running'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = deployerPgTables(migrationSchema(queryRunner));
    await queryRunner.query(`DROP INDEX IF EXISTS "${migrationSchema(queryRunner)}".batch_score_jobs_running`);
    await queryRunner.query(
      `ALTER TABLE ${t.batch_score_jobs} DROP COLUMN IF EXISTS attempts, DROP COLUMN IF EXISTS max_attempts,
         DROP COLUMN IF EXISTS released_at`,
    );
  }
}

export const deployerMigrations = [DeployerTables1764900000000, BatchJobAttempts1765000000000];
