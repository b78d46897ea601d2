import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@mlops/storage';
import { featureStoreTables } from './tables';

/** Dataset catalog, versioned feature views, online store, aggregation states, answered snapshot requests. */
export class FeatureStoreTables1763910000000 implements MigrationInterface {
  name = 'FeatureStoreTables1763910000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = featureStoreTables(migrationSchema(queryRunner));
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.datasets} (
        dataset          text        PRIMARY KEY,
        version          integer     NOT NULL CHECK (version >= 1),
        role             text        NOT NULL CHECK (role IN ('features', 'labels')),
        record_schema    jsonb       NOT NULL,
        entity_key_field text        NOT NULL,
        event_time_field text        NOT NULL,
        label_field      text,
        sensitive_fields jsonb       NOT NULL DEFAULT '[]',
        registered_at    timestamptz NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.feature_views} (
        name            text        NOT NULL,
        version         integer     NOT NULL CHECK (version >= 1),
        dataset         text        NOT NULL,
        dataset_version integer     NOT NULL,
        definition      jsonb       NOT NULL,
        source_dataset  jsonb       NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (name, version)
      )`);
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS feature_views_dataset ON ${t.feature_views} (dataset, name, version)`,
    );
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.online_features} (
        view_name       text        NOT NULL,
        view_version    integer     NOT NULL,
        entity_id       text        NOT NULL,
        features        jsonb       NOT NULL,
        event_time      timestamptz NOT NULL,
        source_event_id text        NOT NULL,
        updated_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (view_name, view_version, entity_id)
      )`);
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.aggregation_states} (
        view_name    text        NOT NULL,
        view_version integer     NOT NULL,
        entity_id    text        NOT NULL,
        state        jsonb       NOT NULL,
        updated_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (view_name, view_version, entity_id)
      )`);
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.snapshots} (
        snapshot_id text        PRIMARY KEY,
        request     jsonb       NOT NULL,
        result      jsonb       NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = featureStoreTables(migrationSchema(queryRunner));
    for (const table of [t.snapshots, t.aggregation_states, t.online_features, t.feature_views, t.datasets]) {
      await queryRunner.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}

/**
 * A view version is 'backfilling' from its creation until its history is replayed from the offline store's
 * source records, then 'ready'; versions made before this migration are ready.
 */
export class FeatureViewBackfill1764000000000 implements MigrationInterface {
  name = 'FeatureViewBackfill1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = featureStoreTables(migrationSchema(queryRunner));
    await queryRunner.query(
      `ALTER TABLE ${t.feature_views} ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'ready' CHECK (status IN ('backfilling', 'ready'))`,
    );
    await queryRunner.query(`ALTER TABLE ${t.feature_views} ADD COLUMN IF NOT EXISTS backfill jsonb`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = featureStoreTables(migrationSchema(queryRunner));
    await queryRunner.query(
      `ALTER TABLE ${t.feature_views} DROP COLUMN IF EXISTS backfill, DROP COLUMN IF EXISTS status`,
    );
  }
}

/** Snapshot requests for a version still backfilling, answered when it is ready (the request event as received). */
export class DeferredSnapshots1764000000001 implements MigrationInterface {
  name = 'DeferredSnapshots1764000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = featureStoreTables(migrationSchema(queryRunner));
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.deferred_snapshots} (
        snapshot_id  text        PRIMARY KEY,
        view_name    text        NOT NULL,
        view_version integer     NOT NULL,
        event        jsonb       NOT NULL,
        deferred_at  timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `DROP TABLE IF EXISTS ${featureStoreTables(migrationSchema(queryRunner)).deferred_snapshots}`,
    );
  }
}

/** Feature exports answered (batch scoring's time-range input), so that a repeated exportId gets the same rows. */
export class FeatureExports1764200000000 implements MigrationInterface {
  name = 'FeatureExports1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = featureStoreTables(migrationSchema(queryRunner));
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ${t.feature_exports} (
        export_id  text        PRIMARY KEY,
        request    jsonb       NOT NULL,
        result     jsonb       NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS ${featureStoreTables(migrationSchema(queryRunner)).feature_exports}`);
  }
}

export const featureStoreMigrations = [
  FeatureStoreTables1763910000000,
  FeatureViewBackfill1764000000000,
  DeferredSnapshots1764000000001,
  FeatureExports1764200000000,
];
