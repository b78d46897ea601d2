import type { DataSource, EntityManager } from 'typeorm';
import type { DatasetRegisteredV1 } from '@mlops/contracts';
import { type FeatureView, type FeatureViewDefinition, type RecordSchema, type SourceDataset, validateFeatureView } from '../domain';
import { type BackfillSummary, DatasetEntity, FeatureViewEntity } from './entities';

/** A dataset as the feature store knows it: its latest registration. */
export interface KnownDataset extends SourceDataset {
  readonly version: number;
  readonly role: 'features' | 'labels';
  readonly labelField?: string;
}

/** One stored version of a feature view. */
export interface StoredFeatureView {
  readonly name: string;
  readonly version: number;
  readonly dataset: string;
  readonly datasetVersion: number;
  readonly definition: FeatureViewDefinition;
  readonly createdAt: Date;
  readonly status: 'backfilling' | 'ready';
  readonly backfill: BackfillSummary | null;
}

/** Datasets and feature view versions in Postgres. Views are immutable, so each is compiled once. */
export class CatalogStore {
  private readonly compiled = new Map<string, FeatureView>();

  constructor(private readonly dataSource: DataSource) {}

  /** Keeps the newest registration: an older version arriving late changes nothing. */
  async upsertDataset(manager: EntityManager, data: DatasetRegisteredV1): Promise<void> {
    await manager.query(
      `INSERT INTO datasets (dataset, version, role, record_schema, entity_key_field, event_time_field, label_field, sensitive_fields, registered_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (dataset) DO UPDATE SET version = EXCLUDED.version, role = EXCLUDED.role, record_schema = EXCLUDED.record_schema,
         entity_key_field = EXCLUDED.entity_key_field, event_time_field = EXCLUDED.event_time_field, label_field = EXCLUDED.label_field,
         sensitive_fields = EXCLUDED.sensitive_fields, registered_at = EXCLUDED.registered_at
       WHERE datasets.version <= EXCLUDED.version`,
      [
        data.dataset,
        data.version,
        data.role,
        JSON.stringify(data.recordSchema),
        data.entityKeyField,
        data.eventTimeField,
        data.labelField ?? null,
        JSON.stringify(data.sensitiveFields),
        data.registeredAt,
      ],
    );
  }

  async dataset(name: string, manager: EntityManager = this.dataSource.manager): Promise<KnownDataset | undefined> {
    const row = await manager.getRepository(DatasetEntity).findOne({ where: { dataset: name } });
    return row ? toDataset(row) : undefined;
  }

  /** Serialises version numbering of one view name until the caller's transaction ends. */
  async lockView(manager: EntityManager, name: string): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`feature-view:${name}`]);
  }

  async insertView(manager: EntityManager, view: FeatureView, dataset: KnownDataset, createdAt: Date): Promise<void> {
    const source: SourceDataset = {
      name: dataset.name,
      recordSchema: dataset.recordSchema,
      entityKeyField: dataset.entityKeyField,
      eventTimeField: dataset.eventTimeField,
      sensitiveFields: dataset.sensitiveFields ?? [],
    };
    await manager.query(
      `INSERT INTO feature_views (name, version, dataset, dataset_version, definition, source_dataset, created_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7, 'backfilling')`,
      [view.name, view.version, dataset.name, dataset.version, JSON.stringify(view.definition), JSON.stringify(source), createdAt],
    );
  }

  async versions(name: string, manager: EntityManager = this.dataSource.manager): Promise<StoredFeatureView[]> {
    const rows = await manager.getRepository(FeatureViewEntity).find({ where: { name }, order: { version: 'ASC' } });
    return rows.map(toStoredView);
  }

  /** The compiled view of one version (the newest ready one when version is omitted), or undefined. */
  async view(name: string, version?: number, manager: EntityManager = this.dataSource.manager): Promise<FeatureView | undefined> {
    if (version !== undefined) {
      const cached = this.compiled.get(`${name}@${version}`);
      if (cached) return cached;
    }
    const row = await manager
      .getRepository(FeatureViewEntity)
      .findOne({ where: version === undefined ? { name, status: 'ready' } : { name, version }, order: { version: 'DESC' } });
    return row ? this.compile(row) : undefined;
  }

  async stored(name: string, version: number, manager: EntityManager = this.dataSource.manager): Promise<StoredFeatureView | undefined> {
    const row = await manager.getRepository(FeatureViewEntity).findOne({ where: { name, version } });
    return row ? toStoredView(row) : undefined;
  }

  /** The newest ready version of every view that reads the dataset: what its records are materialized into. */
  async latestViewsOf(dataset: string, manager: EntityManager): Promise<FeatureView[]> {
    const rows: Array<{ name: string; version: number }> = await manager.query(
      `SELECT DISTINCT ON (name) name, version FROM feature_views WHERE dataset = $1 AND status = 'ready' ORDER BY name, version DESC`,
      [dataset],
    );
    const views: FeatureView[] = [];
    for (const row of rows) {
      const view = await this.view(row.name, row.version, manager);
      if (view) views.push(view);
    }
    return views;
  }

  /** Every view version still to be backfilled, oldest first. */
  async backfilling(): Promise<StoredFeatureView[]> {
    const rows = await this.dataSource.getRepository(FeatureViewEntity).find({ where: { status: 'backfilling' }, order: { createdAt: 'ASC' } });
    return rows.map(toStoredView);
  }

  async recordBackfill(manager: EntityManager, name: string, version: number, summary: BackfillSummary, status: 'backfilling' | 'ready'): Promise<void> {
    await manager.query(`UPDATE feature_views SET backfill = $3, status = $4 WHERE name = $1 AND version = $2`, [name, version, JSON.stringify(summary), status]);
  }

  /**
   * Materialization of a dataset's records holds this lock (shared) for its transaction, taken before it reads
   * the clock for created_at; a backfill takes it exclusively. When the backfill holds it, every record with an
   * earlier created_at has committed, its source row in ClickHouse included, and every later one will carry a
   * later created_at.
   */
  async lockDatasetShared(manager: EntityManager, dataset: string): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock_shared(hashtext($1))', [`feature-dataset:${dataset}`]);
  }

  async lockDatasetExclusive(manager: EntityManager, dataset: string): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`feature-dataset:${dataset}`]);
  }

  private compile(row: FeatureViewEntity): FeatureView {
    const key = `${row.name}@${row.version}`;
    const cached = this.compiled.get(key);
    if (cached) return cached;
    const compiled = validateFeatureView(row.definition as unknown as FeatureViewDefinition, row.sourceDataset as unknown as SourceDataset);
    // It was valid when stored against this very dataset: failing now is a bug, not bad input.
    if (!compiled.ok) throw new Error(`stored feature view ${key} no longer compiles: ${compiled.error.map((i) => `${i.path} ${i.message}`).join('; ')}`);
    this.compiled.set(key, compiled.value);
    return compiled.value;
  }
}

function toDataset(row: DatasetEntity): KnownDataset {
  return {
    name: row.dataset,
    version: row.version,
    role: row.role as 'features' | 'labels',
    recordSchema: row.recordSchema as RecordSchema,
    entityKeyField: row.entityKeyField,
    eventTimeField: row.eventTimeField,
    sensitiveFields: row.sensitiveFields,
    ...(row.labelField !== null ? { labelField: row.labelField } : {}),
  };
}

function toStoredView(row: FeatureViewEntity): StoredFeatureView {
  return {
    name: row.name,
    version: row.version,
    dataset: row.dataset,
    datasetVersion: row.datasetVersion,
    definition: row.definition as unknown as FeatureViewDefinition,
    createdAt: new Date(row.createdAt),
    status: row.status,
    backfill: row.backfill,
  };
}
