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

/**
 * Experiment tracking (MLflow's model): experiments, runs with parent/child links, who asked and why, params
 * (immutable once logged), metrics with their per-step history, tags and artifacts. Experiment "0" is MLflow's
 * Default, where a client logs before it names an experiment.
 */
export class TrackingTables1764700000000 implements MigrationInterface {
  name = 'TrackingTables1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = trainerTables(migrationSchema(queryRunner));
    const schema = migrationSchema(queryRunner);
    await queryRunner.query(`CREATE SEQUENCE IF NOT EXISTS "${schema}".experiment_ids START 1`);
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.experiments} (
        experiment_id     text        PRIMARY KEY,
        name              text        NOT NULL UNIQUE,
        artifact_location text        NOT NULL,
        lifecycle_stage   text        NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
        tags              jsonb       NOT NULL DEFAULT '{}',
        created_by        text,
        creation_time     bigint      NOT NULL,
        last_update_time  bigint      NOT NULL
      )`);
    await queryRunner.query(
      `INSERT INTO ${t.experiments} (experiment_id, name, artifact_location, creation_time, last_update_time)
       VALUES ('0', 'Default', 'mlflow-artifacts:/0', 0, 0) ON CONFLICT DO NOTHING`,
    );
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.tracked_runs} (
        run_id            text        PRIMARY KEY,
        experiment_id     text        NOT NULL REFERENCES ${t.experiments} (experiment_id),
        run_name          text        NOT NULL,
        user_id           text        NOT NULL,
        status            text        NOT NULL CHECK (status IN ('RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED')),
        start_time        bigint      NOT NULL,
        end_time          bigint,
        artifact_uri      text        NOT NULL,
        lifecycle_stage   text        NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
        parent_run_id     text        REFERENCES ${t.tracked_runs} (run_id),
        training_run_id   uuid,
        reason            jsonb
      )`);
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS tracked_runs_by_experiment ON ${t.tracked_runs} (experiment_id, start_time DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS tracked_runs_by_parent ON ${t.tracked_runs} (parent_run_id) WHERE parent_run_id IS NOT NULL`,
    );
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.run_params} (
        run_id  text NOT NULL REFERENCES ${t.tracked_runs} (run_id) ON DELETE CASCADE,
        key     text NOT NULL,
        value   text NOT NULL,
        PRIMARY KEY (run_id, key)
      )`);
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.run_metrics} (
        run_id     text             NOT NULL REFERENCES ${t.tracked_runs} (run_id) ON DELETE CASCADE,
        key        text             NOT NULL,
        value      double precision NOT NULL,
        timestamp  bigint           NOT NULL,
        step       bigint           NOT NULL DEFAULT 0,
        seq        bigserial
      )`);
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS run_metrics_history ON ${t.run_metrics} (run_id, key, step, timestamp)`,
    );
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.run_tags} (
        run_id  text NOT NULL REFERENCES ${t.tracked_runs} (run_id) ON DELETE CASCADE,
        key     text NOT NULL,
        value   text NOT NULL,
        PRIMARY KEY (run_id, key)
      )`);
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.run_artifacts} (
        run_id      text        NOT NULL REFERENCES ${t.tracked_runs} (run_id) ON DELETE CASCADE,
        path        text        NOT NULL,
        uri         text        NOT NULL,
        sha256      text        NOT NULL,
        size_bytes  bigint      NOT NULL,
        media_type  text        NOT NULL,
        created_at  timestamptz NOT NULL,
        PRIMARY KEY (run_id, path)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = trainerTables(migrationSchema(queryRunner));
    for (const table of [t.run_artifacts, t.run_tags, t.run_metrics, t.run_params, t.tracked_runs, t.experiments])
      await queryRunner.query(`DROP TABLE IF EXISTS ${table}`);
    await queryRunner.query(`DROP SEQUENCE IF EXISTS "${migrationSchema(queryRunner)}".experiment_ids`);
  }
}

/** Champions: the version each alias of a model points at, as `mlops.model.promoted.v1` last said (rollbacks too). */
export class ChampionTables1764800000000 implements MigrationInterface {
  name = 'ChampionTables1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = trainerTables(migrationSchema(queryRunner));
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.champions} (
        model        text        NOT NULL,
        alias        text        NOT NULL,
        version      integer     NOT NULL,
        artifact     jsonb       NOT NULL,
        signature    jsonb       NOT NULL,
        promoted_at  timestamptz NOT NULL,
        updated_at   timestamptz NOT NULL,
        PRIMARY KEY (model, alias)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = trainerTables(migrationSchema(queryRunner));
    await queryRunner.query(`DROP TABLE IF EXISTS ${t.champions}`);
  }
}

/**
 * A tracked run's dataset inputs (MLflow's log_input): one row per dataset (name and digest) of the run, with the
 * dataset as logged (source type, source, schema, profile) and its input tags (the context: training, eval...).
 */
export class RunInputs1765100000000 implements MigrationInterface {
  name = 'RunInputs1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = trainerTables(migrationSchema(queryRunner));
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.run_inputs} (
        run_id     text   NOT NULL REFERENCES ${t.tracked_runs} (run_id) ON DELETE CASCADE,
        name       text   NOT NULL,
        digest     text   NOT NULL,
        dataset    jsonb  NOT NULL,
        tags       jsonb  NOT NULL,
        logged_at  bigint NOT NULL,
        PRIMARY KEY (run_id, name, digest)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = trainerTables(migrationSchema(queryRunner));
    await queryRunner.query(`DROP TABLE IF EXISTS ${t.run_inputs}`);
  }
}

export const trainerMigrations = [
  TrainerTables1764600000000,
  TrackingTables1764700000000,
  ChampionTables1764800000000,
  RunInputs1765100000000,
];
