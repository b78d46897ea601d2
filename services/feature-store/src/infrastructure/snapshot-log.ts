import type { EntityManager } from 'typeorm';
import type { DatasetSnapshotCreatedV1, DatasetSnapshotRequestedV1, EventTypes } from '@mlops/contracts';
import type { CloudEvent } from '@mlops/messaging';

type Requested = CloudEvent<typeof EventTypes.DatasetSnapshotRequestedV1>;

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

  /** Keeps a request until its view version is ready (a second copy of the same snapshotId changes nothing). */
  async defer(manager: EntityManager, event: Requested): Promise<void> {
    await manager.query(
      `INSERT INTO deferred_snapshots (snapshot_id, view_name, view_version, event) VALUES ($1, $2, $3, $4) ON CONFLICT (snapshot_id) DO NOTHING`,
      [event.data.snapshotId, event.data.featureView.name, event.data.featureView.version, JSON.stringify(event)],
    );
  }

  /** The deferred requests of the view versions that are ready now (of one version when given), oldest first. */
  async deferredReady(manager: EntityManager, view?: { name: string; version: number }): Promise<Requested[]> {
    const rows: Array<{ event: Requested }> = await manager.query(
      `SELECT d.event FROM deferred_snapshots d JOIN feature_views v ON v.name = d.view_name AND v.version = d.view_version
       WHERE v.status = 'ready' ${view ? 'AND d.view_name = $1 AND d.view_version = $2' : ''} ORDER BY d.deferred_at`,
      view ? [view.name, view.version] : [],
    );
    return rows.map((r) => r.event);
  }

  /** Removes a deferred request; false when another replica answered it first. */
  async forgetDeferred(manager: EntityManager, snapshotId: string): Promise<boolean> {
    // Through a SELECT: TypeORM answers a bare DELETE with [rows, count].
    const [{ n }]: Array<{ n: number }> = await manager.query(
      `WITH gone AS (DELETE FROM deferred_snapshots WHERE snapshot_id = $1 RETURNING 1) SELECT count(*)::int AS n FROM gone`,
      [snapshotId],
    );
    return n === 1;
  }
}
