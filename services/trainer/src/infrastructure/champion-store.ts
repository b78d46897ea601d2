import type { DataSource, EntityManager } from 'typeorm';
import type { ModelPromotedV1 } from '@mlops/contracts';
import { execute, queryOne, schemaOf } from '@mlops/storage';
import { type TrainerTables, trainerTables } from './tables';

/** The version an alias of a model points at, with what is needed to score it: its artifact and signature. */
export interface Champion {
  readonly model: string;
  readonly alias: string;
  readonly version: number;
  readonly artifact: ModelPromotedV1['artifact'];
  readonly signature: ModelPromotedV1['signature'];
  readonly promotedAt: string;
}

interface ChampionRow {
  model: string;
  alias: string;
  version: number;
  artifact: ModelPromotedV1['artifact'];
  signature: ModelPromotedV1['signature'];
  promoted_at: Date;
}

/** Where each alias of each model points, as the registry's promotions (and rollbacks) said, in the trainer's schema. */
export class ChampionStore {
  private readonly tables: TrainerTables;

  constructor(readonly dataSource: DataSource) {
    this.tables = trainerTables(schemaOf(dataSource));
  }

  /** Records a promotion; one older than what is stored (a replay of the compacted topic) changes nothing. */
  async record(manager: EntityManager, promoted: ModelPromotedV1, now: Date): Promise<boolean> {
    const changed = await execute(
      manager,
      `INSERT INTO ${this.tables.champions} (model, alias, version, artifact, signature, promoted_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (model, alias) DO UPDATE SET version = EXCLUDED.version, artifact = EXCLUDED.artifact,
         signature = EXCLUDED.signature, promoted_at = EXCLUDED.promoted_at, updated_at = EXCLUDED.updated_at
       WHERE ${this.tables.champions}.promoted_at <= EXCLUDED.promoted_at`,
      [
        promoted.model,
        promoted.alias,
        promoted.version,
        JSON.stringify(promoted.artifact),
        JSON.stringify(promoted.signature),
        promoted.promotedAt,
        now,
      ],
    );
    return changed > 0;
  }

  async find(manager: EntityManager, model: string, alias: string): Promise<Champion | undefined> {
    const row = await queryOne<ChampionRow>(
      manager,
      `SELECT model, alias, version, artifact, signature, promoted_at FROM ${this.tables.champions}
       WHERE model = $1 AND alias = $2`,
      [model, alias],
    );
    return (
      row && {
        model: row.model,
        alias: row.alias,
        version: row.version,
        artifact: row.artifact,
        signature: row.signature,
        promotedAt: row.promoted_at.toISOString(),
      }
    );
  }
}
