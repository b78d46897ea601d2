import type { EntityManager } from 'typeorm';
import type { DatasetSnapshotCreatedV1, DatasetSnapshotRequestedV1 } from '@mlops/contracts';

/** Snapshot requests already answered, so that a repeated snapshotId gets the same answer without a rebuild. */
export class SnapshotLog {
  /** Serialises work on one snapshotId until the caller's transaction ends. */
  async lock(manager: EntityManager, snapshotId: string): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`snapshot:${snapshotId}`]);
  }

  async find(manager: EntityManager, snapshotId: string): Promise<DatasetSnapshotCreatedV1 | undefined> {
    const rows: Array<{ result: DatasetSnapshotCreatedV1 }> = await manager.query(`SELECT result FROM snapshots WHERE snapshot_id = $1`, [snapshotId]);
    return rows[0]?.result;
  }

  async record(manager: EntityManager, request: DatasetSnapshotRequestedV1, result: DatasetSnapshotCreatedV1): Promise<void> {
    await manager.query(`INSERT INTO snapshots (snapshot_id, request, result, created_at) VALUES ($1, $2, $3, $4)`, [
      request.snapshotId,
      JSON.stringify(request),
      JSON.stringify(result),
      result.createdAt,
    ]);
  }
}
