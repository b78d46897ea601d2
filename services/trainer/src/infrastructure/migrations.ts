import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@mlops/storage';
import { trainerTables } from './tables';

/** Training runs: the request, where the run is, the snapshot it trains on, its result or why it failed. */
export class TrainerTables1764600000000 implements MigrationInterface {
  name = 'TrainerTables1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = trainerTables(migrationSchema(queryRunner));
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.training_runs} (
        id            uuid        PRIMARY KEY,
        model         text        NOT NULL,
        request       jsonb       NOT NULL,
        status        text        NOT NULL CHECK (status IN ('waiting_for_snapshot', 'training', 'succeeded', 'failed')),
        progress      real        NOT NULL DEFAULT 0,
        snapshot_id   uuid        NOT NULL UNIQUE,
        snapshot      jsonb,
        attempt       integer     NOT NULL DEFAULT 0,
        lease_owner   text,
        lease_until   timestamptz,
        result        jsonb,
        failure       jsonb,
        created_at    timestamptz NOT NULL,
        updated_at    timestamptz NOT NULL,
        started_at    timestamptz,
        finished_at   timestamptz
      )`);
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS training_runs_claimable ON ${t.training_runs} (status, lease_until) WHERE status = 'training'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = trainerTables(migrationSchema(queryRunner));
    await queryRunner.query(`DROP TABLE IF EXISTS ${t.training_runs}`);
  }
}

export const trainerMigrations = [TrainerTables1764600000000];
