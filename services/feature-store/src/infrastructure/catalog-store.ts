import type { DataSource, EntityManager } from 'typeorm';
import type { DatasetRegisteredV1 } from '@mlops/contracts';
import { AdvisoryLockScope, execute, query, queryOne, schemaOf } from '@mlops/storage';
import {
  type FeatureView,
  type FeatureViewDefinition,
  type RecordSchema,
  type SourceDataset,
  validateFeatureView,
} from '../domain';
import { SERVICE } from '../tokens';
import { type FeatureStoreTables, featureStoreTables } from './tables';

/** What a view version's backfill did (or the error of its last attempt). */
export interface BackfillSummary {
  readonly startedAt: string;
  readonly finishedAt?: string;
  /** Source records replayed, feature rows written, entities with a state. */
  readonly records: number;
  readonly rows: number;
  readonly entities: number;
  /** Arrival time of the newest record replayed. */
  readonly upTo?: string;
  readonly lastError?: string;
}

/** A row of datasets: the latest registered version of a dataset (from mlops.dataset.registered.v1). */
interface DatasetRow {
  dataset: string;
  version: number;
  role: 'features' | 'labels';
  record_schema: RecordSchema;
  entity_key_field: string;
  event_time_field: string;
  label_field: string | null;
  sensitive_fields: string[];
}

/** A row of feature_views: one immutable version, with the dataset it was validated against. */
interface FeatureViewRow {
  name: string;
  version: number;
  dataset: string;
  dataset_version: number;
  definition: FeatureViewDefinition;
  /** The view compiles against this forever, whatever the dataset becomes. */
  source_dataset: SourceDataset;
  created_at: Date;
  status: 'backfilling' | 'ready';
  backfill: BackfillSummary | null;
}

const DATASET_COLUMNS =
  'dataset, version, role, record_schema, entity_key_field, event_time_field, label_field, sensitive_fields';
const VIEW_COLUMNS =
  'name, version, dataset, dataset_version, definition, source_dataset, created_at, status, backfill';

/** Version numbering of one view name. */
const VIEW_VERSIONS = new AdvisoryLockScope(SERVICE, 'feature-view-versions');
/** Materialization of a dataset's records (shared) against a backfill's cut (exclusive). */
const DATASET_MATERIALIZATION = new AdvisoryLockScope(SERVICE, 'dataset-materialization');

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
  private readonly tables: FeatureStoreTables;

  constructor(private readonly dataSource: DataSource) {
    this.tables = featureStoreTables(schemaOf(dataSource));
  }

  /** Keeps the newest registration: an older version arriving late changes nothing. */
  async upsertDataset(manager: EntityManager, data: DatasetRegisteredV1): Promise<void> {
    await execute(
      manager,
      `INSERT INTO ${this.tables.datasets} AS datasets (dataset, version, role, record_schema, entity_key_field, event_time_field, label_field, sensitive_fields, registered_at)
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
    const row = await queryOne<DatasetRow>(
      manager,
      `SELECT ${DATASET_COLUMNS} FROM ${this.tables.datasets} WHERE dataset = $1`,
      [name],
    );
    return row ? toDataset(row) : undefined;
  }

  /** Serialises version numbering of one view name until the caller's transaction ends. */
  async lockView(manager: EntityManager, name: string): Promise<void> {
    await VIEW_VERSIONS.lockInTransaction(manager, name);
  }

  async insertView(manager: EntityManager, view: FeatureView, dataset: KnownDataset, createdAt: Date): Promise<void> {
    const source: SourceDataset = {
      name: dataset.name,
      recordSchema: dataset.recordSchema,
      entityKeyField: dataset.entityKeyField,
      eventTimeField: dataset.eventTimeField,
      sensitiveFields: dataset.sensitiveFields ?? [],
    };
    await execute(
      manager,
      `INSERT INTO ${this.tables.feature_views} (name, version, dataset, dataset_version, definition, source_dataset, created_at, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'backfilling')`,
      [
        view.name,
        view.version,
        dataset.name,
        dataset.version,
        JSON.stringify(view.definition),
        JSON.stringify(source),
        createdAt,
      ],
    );
  }

  async versions(name: string, manager: EntityManager = this.dataSource.manager): Promise<StoredFeatureView[]> {
    const rows = await query<FeatureViewRow>(
      manager,
      `SELECT ${VIEW_COLUMNS} FROM ${this.tables.feature_views} WHERE name = $1 ORDER BY version`,
      [name],
    );
    return rows.map(toStoredView);
  }

  /** The compiled view of one version (the newest ready one when version is omitted), or undefined. */
  async view(
    name: string,
    version?: number,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<FeatureView | undefined> {
    if (version !== undefined) {
      const cached = this.compiled.get(`${name}@${version}`);
      if (cached) return cached;
    }
    const row =
      version === undefined
        ? await queryOne<FeatureViewRow>(
            manager,
            `SELECT ${VIEW_COLUMNS} FROM ${this.tables.feature_views} WHERE name = $1 AND status = 'ready' ORDER BY version DESC LIMIT 1`,
            [name],
          )
        : await this.row(manager, name, version);
    return row ? this.compile(row) : undefined;
  }

  async stored(
    name: string,
    version: number,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<StoredFeatureView | undefined> {
    const row = await this.row(manager, name, version);
    return row ? toStoredView(row) : undefined;
  }

  /** The newest ready version of every view that reads the dataset: what its records are materialized into. */
  async latestViewsOf(dataset: string, manager: EntityManager): Promise<FeatureView[]> {
    const rows = await query<Pick<FeatureViewRow, 'name' | 'version'>>(
      manager,
      `SELECT DISTINCT ON (name) name, version FROM ${this.tables.feature_views} WHERE dataset = $1 AND status = 'ready' ORDER BY name, version DESC`,
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
    const rows = await query<FeatureViewRow>(
      this.dataSource.manager,
      `SELECT ${VIEW_COLUMNS} FROM ${this.tables.feature_views} WHERE status = 'backfilling' ORDER BY created_at`,
    );
    return rows.map(toStoredView);
  }

  async recordBackfill(
    manager: EntityManager,
    name: string,
    version: number,
    summary: BackfillSummary,
    status: 'backfilling' | 'ready',
  ): Promise<void> {
    await execute(
      manager,
      `UPDATE ${this.tables.feature_views} SET backfill = $3, status = $4 WHERE name = $1 AND version = $2`,
      [name, version, JSON.stringify(summary), status],
    );
  }

  /**
   * Materialization of a dataset's records holds this lock (shared) for its transaction, taken before it reads
   * the clock for created_at; a backfill takes it exclusively. When the backfill holds it, every record with an
   * earlier created_at has committed, its source row in ClickHouse included, and every later one will carry a
   * later created_at.
   */
  async lockDatasetShared(manager: EntityManager, dataset: string): Promise<void> {
    await DATASET_MATERIALIZATION.lockInTransaction(manager, dataset, 'shared');
  }

  async lockDatasetExclusive(manager: EntityManager, dataset: string): Promise<void> {
    await DATASET_MATERIALIZATION.lockInTransaction(manager, dataset, 'exclusive');
  }

  private row(manager: EntityManager, name: string, version: number): Promise<FeatureViewRow | undefined> {
    return queryOne<FeatureViewRow>(
      manager,
      `SELECT ${VIEW_COLUMNS} FROM ${this.tables.feature_views} WHERE name = $1 AND version = $2`,
      [name, version],
    );
  }

  private compile(row: FeatureViewRow): FeatureView {
    const key = `${row.name}@${row.version}`;
    const cached = this.compiled.get(key);
    if (cached) return cached;
    const compiled = validateFeatureView(row.definition, row.source_dataset);
    // It was valid when stored against this very dataset: failing now is a bug, not bad input.
    if (!compiled.ok)
      throw new Error(
        `stored feature view ${key} no longer compiles: ${compiled.error.map((i) => `${i.path} ${i.message}`).join('; ')}`,
      );
    this.compiled.set(key, compiled.value);
    return compiled.value;
  }
}

function toDataset(row: DatasetRow): KnownDataset {
  return {
    name: row.dataset,
    version: row.version,
    role: row.role,
    recordSchema: row.record_schema,
    entityKeyField: row.entity_key_field,
    eventTimeField: row.event_time_field,
    sensitiveFields: row.sensitive_fields,
    ...(row.label_field !== null ? { labelField: row.label_field } : {}),
  };
}

function toStoredView(row: FeatureViewRow): StoredFeatureView {
  return {
    name: row.name,
    version: row.version,
    dataset: row.dataset,
    datasetVersion: row.dataset_version,
    definition: row.definition,
    createdAt: new Date(row.created_at),
    status: row.status,
    backfill: row.backfill,
  };
}
