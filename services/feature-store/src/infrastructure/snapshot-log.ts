import type { DataSource, EntityManager } from 'typeorm';
import type { DatasetSnapshotCreatedV1, DatasetSnapshotRequestedV1, EventTypes } from '@mlops/contracts';
import type { CloudEvent } from '@mlops/messaging';
import { AdvisoryLockScope, execute, query, schemaOf } from '@mlops/storage';
import { SERVICE } from '../tokens';
import { type FeatureStoreTables, featureStoreTables } from './tables';

type Requested = CloudEvent<typeof EventTypes.DatasetSnapshotRequestedV1>;

/** A row of snapshots: the answer sent for a snapshotId (request and result as received and sent). */
interface SnapshotRow {
  result: DatasetSnapshotCreatedV1;
}

/** A row of deferred_snapshots: a request kept, as received, until its view version is ready. */
interface DeferredSnapshotRow {
  event: Requested;
}

/** Work on one snapshotId. */
const SNAPSHOTS = new AdvisoryLockScope(SERVICE, 'snapshot');

/** Snapshot requests already answered, so that a repeated snapshotId gets the same answer without a rebuild. */
export class SnapshotLog {
  private readonly tables: FeatureStoreTables;

  constructor(dataSource: DataSource) {
    this.tables = featureStoreTables(schemaOf(dataSource));
  }

  /** Serialises work on one snapshotId until the caller's transaction ends. */
  async lock(manager: EntityManager, snapshotId: string): Promise<void> {
    await SNAPSHOTS.lockInTransaction(manager, snapshotId);
  }

  async find(manager: EntityManager, snapshotId: string): Promise<DatasetSnapshotCreatedV1 | undefined> {
    const rows = await query<SnapshotRow>(
      manager,
      `SELECT result FROM ${this.tables.snapshots} WHERE snapshot_id = $1`,
      [snapshotId],
    );
    return rows[0]?.result;
  }

  async record(
    manager: EntityManager,
    request: DatasetSnapshotRequestedV1,
    result: DatasetSnapshotCreatedV1,
  ): Promise<void> {
    await execute(
      manager,
      `INSERT INTO ${this.tables.snapshots} (snapshot_id, request, result, created_at) VALUES ($1, $2, $3, $4)`,
      [request.snapshotId, JSON.stringify(request), JSON.stringify(result), result.createdAt],
    );
  }

  /** Keeps a request until its view version is ready (a second copy of the same snapshotId changes nothing). */
  async defer(manager: EntityManager, event: Requested): Promise<void> {
    await execute(
      manager,
      `INSERT INTO ${this.tables.deferred_snapshots} (snapshot_id, view_name, view_version, event) VALUES ($1, $2, $3, $4) ON CONFLICT (snapshot_id) DO NOTHING`,
      [event.data.snapshotId, event.data.featureView.name, event.data.featureView.version, JSON.stringify(event)],
    );
  }

  /** The deferred requests of the view versions that are ready now (of one version when given), oldest first. */
  async deferredReady(manager: EntityManager, view?: { name: string; version: number }): Promise<Requested[]> {
    const rows = await query<DeferredSnapshotRow>(
      manager,
      `SELECT d.event FROM ${this.tables.deferred_snapshots} d JOIN ${this.tables.feature_views} v ON v.name = d.view_name AND v.version = d.view_version
       WHERE v.status = 'ready' ${view ? 'AND d.view_name = $1 AND d.view_version = $2' : ''} ORDER BY d.deferred_at`,
      view ? [view.name, view.version] : [],
    );
    return rows.map((r) => r.event);
  }

  /** Whether a request for this snapshotId waits for its view version's backfill. */
  async isDeferred(manager: EntityManager, snapshotId: string): Promise<boolean> {
    const rows = await query<{ snapshot_id: string }>(
      manager,
      `SELECT snapshot_id FROM ${this.tables.deferred_snapshots} WHERE snapshot_id = $1`,
      [snapshotId],
    );
    return rows.length > 0;
  }

  /** Removes a deferred request; false when another replica answered it first. */
  async forgetDeferred(manager: EntityManager, snapshotId: string): Promise<boolean> {
    return (
      (await execute(manager, `DELETE FROM ${this.tables.deferred_snapshots} WHERE snapshot_id = $1`, [snapshotId])) ===
      1
    );
  }
}
