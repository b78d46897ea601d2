import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@mlops/storage';

/** The service's copy of every token (kept in step by mlops.auth.token.changed.v1) and its audit log. */
export class AuthTables1764590000000 implements MigrationInterface {
  name = 'AuthTables1764590000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = migrationSchema(queryRunner);
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS "${s}".auth_tokens (
        id          text        PRIMARY KEY,
        name        text        NOT NULL,
        roles       text[]      NOT NULL,
        secret_hash text        NOT NULL,
        created_by  text        NOT NULL,
        created_at  timestamptz NOT NULL,
        expires_at  timestamptz,
        revoked_at  timestamptz,
        revision    integer     NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS "${s}".audit_log (
        id             bigserial   PRIMARY KEY,
        at             timestamptz NOT NULL DEFAULT now(),
        kind           text        NOT NULL CHECK (kind IN ('request', 'action')),
        actor_token_id text,
        actor_name     text,
        actor_roles    text[]      NOT NULL DEFAULT '{}',
        method         text,
        route          text,
        params         jsonb       NOT NULL DEFAULT '{}',
        status         integer,
        outcome        text        NOT NULL,
        reason         text,
        action         text,
        details        jsonb
      )`);
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS audit_log_at ON "${s}".audit_log (at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = migrationSchema(queryRunner);
    await queryRunner.query(`DROP TABLE IF EXISTS "${s}".audit_log`);
    await queryRunner.query(`DROP TABLE IF EXISTS "${s}".auth_tokens`);
  }
}

/** Run with the service's own migrations (PlatformModule's `migrations`). */
export const authMigrations = [AuthTables1764590000000];
