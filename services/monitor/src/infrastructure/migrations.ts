import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@mlops/storage';
import { monitorPgTables } from './tables';

/** Registered versions, the last training lineage per model, policies, continuous-training state, judged windows. */
export class MonitorTables1764600000000 implements MigrationInterface {
  name = 'MonitorTables1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = monitorPgTables(migrationSchema(queryRunner));
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.model_versions} (
        model           text        NOT NULL,
        version         integer     NOT NULL CHECK (version >= 1),
        task            text        NOT NULL,
        training_run_id text        NOT NULL,
        metrics         jsonb       NOT NULL,
        feature_names   jsonb       NOT NULL,
        label_dataset   text        NOT NULL,
        label_field     text        NOT NULL,
        registered_at   timestamptz NOT NULL,
        PRIMARY KEY (model, version)
      )`);
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.model_lineage} (
        model           text        PRIMARY KEY,
        training_run_id text        NOT NULL,
        task            text        NOT NULL,
        algorithm       text        NOT NULL,
        feature_view    jsonb       NOT NULL,
        labels          jsonb       NOT NULL,
        training_window jsonb       NOT NULL,
        params          jsonb       NOT NULL,
        trained_at      timestamptz NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.policies} (
        model      text        PRIMARY KEY,
        policy     jsonb       NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.training_state} (
        model             text        PRIMARY KEY,
        in_flight_run_id  text,
        in_flight_since   timestamptz,
        last_requested_at timestamptz,
        drift_streak      integer     NOT NULL DEFAULT 0,
        degraded          boolean     NOT NULL DEFAULT false,
        last_drift_window bigint,
        cause_event_id    text,
        updated_at        timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.evaluated_windows} (
        model        text        NOT NULL,
        version      integer     NOT NULL,
        analysis     text        NOT NULL CHECK (analysis IN ('drift', 'performance')),
        arm          text        NOT NULL DEFAULT '',
        window_key   bigint      NOT NULL,
        window_start timestamptz NOT NULL,
        window_end   timestamptz NOT NULL,
        outcome      jsonb       NOT NULL,
        evaluated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (model, version, analysis, arm, window_key)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = monitorPgTables(migrationSchema(queryRunner));
    for (const table of [t.evaluated_windows, t.training_state, t.policies, t.model_lineage, t.model_versions])
      await queryRunner.query(`DROP TABLE IF EXISTS ${table}`);
  }
}

/** When the current drift streak began: the start of its first drifted window (policy `training.since`). */
export class DriftStreakStart1764700000000 implements MigrationInterface {
  name = 'DriftStreakStart1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = monitorPgTables(migrationSchema(queryRunner));
    await queryRunner.query(`ALTER TABLE ${t.training_state} ADD COLUMN IF NOT EXISTS drift_started_at timestamptz`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = monitorPgTables(migrationSchema(queryRunner));
    await queryRunner.query(`ALTER TABLE ${t.training_state} DROP COLUMN IF EXISTS drift_started_at`);
  }
}

export const monitorMigrations = [MonitorTables1764600000000, DriftStreakStart1764700000000];
