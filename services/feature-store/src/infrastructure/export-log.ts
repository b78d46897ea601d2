import type { DataSource, EntityManager } from 'typeorm';
import type { FeaturesExportRequestedV1, FeaturesExportedV1 } from '@mlops/contracts';
import { AdvisoryLockScope, execute, queryOne, schemaOf } from '@mlops/storage';
import { SERVICE } from '../tokens';
import { type FeatureStoreTables, featureStoreTables } from './tables';

/** Work on one exportId. */
const EXPORTS = new AdvisoryLockScope(SERVICE, 'export');

/** Exports made, so that a repeated exportId gets the same answer (the same rows) without a new export. */
export class ExportLog {
  private readonly tables: FeatureStoreTables;

  constructor(dataSource: DataSource) {
    this.tables = featureStoreTables(schemaOf(dataSource));
  }

  /** Serialises work on one exportId until the caller's transaction ends. */
  async lock(manager: EntityManager, exportId: string): Promise<void> {
    await EXPORTS.lockInTransaction(manager, exportId);
  }

  async find(manager: EntityManager, exportId: string): Promise<FeaturesExportedV1 | undefined> {
    const row = await queryOne<{ result: FeaturesExportedV1 }>(
      manager,
      `SELECT result FROM ${this.tables.feature_exports} WHERE export_id = $1`,
      [exportId],
    );
    return row?.result;
  }

  async record(manager: EntityManager, request: FeaturesExportRequestedV1, result: FeaturesExportedV1): Promise<void> {
    await execute(
      manager,
      `INSERT INTO ${this.tables.feature_exports} (export_id, request, result, created_at) VALUES ($1, $2, $3, $4)`,
      [request.exportId, JSON.stringify(request), JSON.stringify(result), result.createdAt],
    );
  }
}
