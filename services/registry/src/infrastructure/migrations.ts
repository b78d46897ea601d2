import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@mlops/storage';
import { registryTables } from './tables';

/**
 * The catalog: registered models, immutable versions, aliases with their full history, promotions waiting for a
 * person, deployments reported by the deployer, and the audit log of every change (who, when, what, why).
 */
export class RegistryCatalog1764700000000 implements MigrationInterface {
  name = 'RegistryCatalog1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner);
    const t = registryTables(schema);
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.models} (
        name        text        PRIMARY KEY,
        description text        NOT NULL DEFAULT '',
        task        text        NOT NULL CHECK (task IN ('binary_classification', 'regression')),
        owner       text        NOT NULL,
        tags        jsonb       NOT NULL DEFAULT '{}'::jsonb,
        policy      jsonb,
        created_at  timestamptz NOT NULL,
        updated_at  timestamptz NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.model_versions} (
        model                   text        NOT NULL REFERENCES ${t.models} (name),
        version                 integer     NOT NULL CHECK (version >= 1),
        source                  text        NOT NULL CHECK (source IN ('trained', 'uploaded')),
        training_run_id         uuid        UNIQUE,
        task                    text        NOT NULL,
        algorithm               text        NOT NULL,
        description             text        NOT NULL DEFAULT '',
        tags                    jsonb       NOT NULL DEFAULT '{}'::jsonb,
        artifact                jsonb       NOT NULL,
        signature               jsonb       NOT NULL,
        feature_view            jsonb       NOT NULL,
        metrics                 jsonb       NOT NULL,
        slice_metrics           jsonb       NOT NULL DEFAULT '{}'::jsonb,
        params                  jsonb       NOT NULL DEFAULT '{}'::jsonb,
        lineage                 jsonb,
        reference_distributions jsonb       NOT NULL DEFAULT '{}'::jsonb,
        prediction_distribution jsonb,
        trained_at              timestamptz,
        created_by              text        NOT NULL,
        created_at              timestamptz NOT NULL,
        status                  text        NOT NULL
          CHECK (status IN ('registered', 'pending_approval', 'rejected', 'promoted', 'bad')),
        gate                    jsonb,
        bad                     jsonb,
        PRIMARY KEY (model, version)
      )`);
    // A version is immutable: only its status, gate decision and bad mark change after registration.
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "${schema}".model_version_immutable() RETURNS trigger AS $$
      BEGIN
        IF (OLD.artifact, OLD.signature, OLD.metrics, OLD.slice_metrics, OLD.params, OLD.lineage, OLD.source,
            OLD.training_run_id, OLD.feature_view, OLD.created_by, OLD.created_at)
           IS DISTINCT FROM
           (NEW.artifact, NEW.signature, NEW.metrics, NEW.slice_metrics, NEW.params, NEW.lineage, NEW.source,
            NEW.training_run_id, NEW.feature_view, NEW.created_by, NEW.created_at) THEN
          RAISE EXCEPTION 'model version %/% is immutable', OLD.model, OLD.version;
        END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql`);
    await queryRunner.query(`DROP TRIGGER IF EXISTS model_version_immutable ON ${t.model_versions}`);
    await queryRunner.query(
      `CREATE TRIGGER model_version_immutable BEFORE UPDATE ON ${t.model_versions}
       FOR EACH ROW EXECUTE FUNCTION "${schema}".model_version_immutable()`,
    );
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.aliases} (
        model       text        NOT NULL REFERENCES ${t.models} (name),
        alias       text        NOT NULL,
        version     integer     NOT NULL,
        updated_at  timestamptz NOT NULL,
        PRIMARY KEY (model, alias),
        FOREIGN KEY (model, version) REFERENCES ${t.model_versions} (model, version)
      )`);
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.alias_history} (
        id               bigserial   PRIMARY KEY,
        model            text        NOT NULL,
        alias            text        NOT NULL,
        version          integer     NOT NULL,
        previous_version integer,
        trigger          text        NOT NULL CHECK (trigger IN ('gate', 'manual', 'rollback')),
        reason           text        NOT NULL,
        gate             jsonb,
        actor            text        NOT NULL,
        event_id         text        NOT NULL,
        at               timestamptz NOT NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS alias_history_by_alias ON ${t.alias_history} (model, alias, id)`,
    );
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.promotion_requests} (
        id          bigserial   PRIMARY KEY,
        model       text        NOT NULL,
        version     integer     NOT NULL,
        alias       text        NOT NULL,
        gate        jsonb       NOT NULL,
        status      text        NOT NULL CHECK (status IN ('pending', 'approved', 'superseded')),
        created_at  timestamptz NOT NULL,
        decided_by  text,
        decided_at  timestamptz,
        FOREIGN KEY (model, version) REFERENCES ${t.model_versions} (model, version)
      )`);
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.deployments} (
        event_id            text        PRIMARY KEY,
        model               text        NOT NULL,
        version             integer     NOT NULL,
        alias               text        NOT NULL,
        outcome             text        NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
        instance_id         text        NOT NULL,
        promotion_event_id  text        NOT NULL,
        details             jsonb       NOT NULL,
        at                  timestamptz NOT NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS deployments_by_version ON ${t.deployments} (model, version, at)`,
    );
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.model_audit} (
        id       bigserial   PRIMARY KEY,
        at       timestamptz NOT NULL,
        actor    text        NOT NULL,
        action   text        NOT NULL,
        model    text        NOT NULL,
        version  integer,
        alias    text,
        reason   text        NOT NULL,
        details  jsonb       NOT NULL DEFAULT '{}'::jsonb
      )`);
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS model_audit_by_model ON ${t.model_audit} (model, id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = registryTables(migrationSchema(queryRunner));
    for (const table of [
      t.model_audit,
      t.deployments,
      t.promotion_requests,
      t.alias_history,
      t.aliases,
      t.model_versions,
      t.models,
    ]) {
      await queryRunner.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}

/** What the trainer said of the alias's version when a candidate was trained: its metrics on the same holdout. */
export class VersionChampion1764800000000 implements MigrationInterface {
  name = 'VersionChampion1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = registryTables(migrationSchema(queryRunner));
    await queryRunner.query(`ALTER TABLE ${t.model_versions} ADD COLUMN IF NOT EXISTS champion jsonb`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = registryTables(migrationSchema(queryRunner));
    await queryRunner.query(`ALTER TABLE ${t.model_versions} DROP COLUMN IF EXISTS champion`);
  }
}

/** The champion evaluation is part of what a version was registered with: the immutability trigger covers it too. */
export class ChampionImmutable1764900000000 implements MigrationInterface {
  name = 'ChampionImmutable1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(immutabilityFunction(migrationSchema(queryRunner), true));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(immutabilityFunction(migrationSchema(queryRunner), false));
  }
}

/** The trigger function that refuses any change to what a version was registered with. */
function immutabilityFunction(schema: string, withChampion: boolean): string {
  const columns = [
    'artifact',
    'signature',
    'metrics',
    'slice_metrics',
    'params',
    'lineage',
    'source',
    'training_run_id',
    'feature_view',
    'created_by',
    'created_at',
    ...(withChampion ? ['champion'] : []),
  ];
  const of = (row: string) => columns.map((c) => `${row}.${c}`).join(', ');
  return `
    CREATE OR REPLACE FUNCTION "${schema}".model_version_immutable() RETURNS trigger AS $$
    BEGIN
      IF (${of('OLD')}) IS DISTINCT FROM (${of('NEW')}) THEN
        RAISE EXCEPTION 'model version %/% is immutable', OLD.model, OLD.version;
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql`;
}

export const registryMigrations = [
  RegistryCatalog1764700000000,
  VersionChampion1764800000000,
  ChampionImmutable1764900000000,
];
