import type { DataSource, EntityManager } from 'typeorm';
import { AdvisoryLockScope, execute, query, queryOne, schemaOf } from '@mlops/storage';
import type { DatasetDefinition, DatasetRole, DatasetVersion, SensitiveTreatment } from '../domain/dataset';
import type { JsonObject } from '../domain/json';
import { SERVICE } from '../tokens';
import { ingestionTables } from './tables';

/** A row of dataset_versions (see migrations.ts). */
interface DatasetVersionRow {
  dataset: string;
  version: number;
  role: string;
  record_schema: JsonObject;
  entity_key_field: string;
  event_time_field: string;
  label_field: string | null;
  sensitive_fields: Record<string, string>;
  description: string | null;
  owner: string | null;
  registered_at: Date;
}

const COLUMNS =
  'dataset, version, role, record_schema, entity_key_field, event_time_field, label_field, sensitive_fields, description, owner, registered_at';

/** Registrations of one dataset name take turns. */
const REGISTRATIONS = new AdvisoryLockScope(SERVICE, 'dataset-registration');

/** Dataset versions in Postgres. Versions are immutable, so each is cached once read. */
export class DatasetStore {
  private readonly versions = new Map<string, DatasetVersion>();
  private readonly table: string;

  constructor(private readonly dataSource: DataSource) {
    this.table = ingestionTables(schemaOf(dataSource)).dataset_versions;
  }

  /** Asks Postgres only for the latest version number (a new version may come from another replica); its row is cached. */
  async latest(name: string, manager: EntityManager = this.dataSource.manager): Promise<DatasetVersion | undefined> {
    const latest = await queryOne<{ version: number | null }>(
      manager,
      `SELECT max(version) AS version FROM ${this.table} WHERE dataset = $1`,
      [name],
    );
    const version = latest?.version;
    if (version === null || version === undefined) return undefined;
    return this.read(manager, name, version);
  }

  async version(name: string, version: number): Promise<DatasetVersion | undefined> {
    return this.read(this.dataSource.manager, name, version);
  }

  async list(): Promise<DatasetVersion[]> {
    const rows = await query<DatasetVersionRow>(
      this.dataSource.manager,
      `SELECT DISTINCT ON (dataset) ${COLUMNS} FROM ${this.table} ORDER BY dataset, version DESC`,
    );
    return rows.map(toDomain);
  }

  /** Serialises registrations of one dataset until the caller's transaction ends. */
  async lock(manager: EntityManager, name: string): Promise<void> {
    await REGISTRATIONS.lockInTransaction(manager, name);
  }

  /** Answers the version as given, not as read back: jsonb would reorder the keys of its objects. */
  async insert(
    manager: EntityManager,
    definition: DatasetDefinition,
    version: number,
    registeredAt: Date,
  ): Promise<DatasetVersion> {
    await execute(
      manager,
      `INSERT INTO ${this.table} (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        definition.name,
        version,
        definition.role,
        JSON.stringify(definition.recordSchema),
        definition.entityKeyField,
        definition.eventTimeField,
        definition.labelField ?? null,
        JSON.stringify(definition.sensitiveFields),
        definition.description ?? null,
        definition.owner ?? null,
        registeredAt,
      ],
    );
    return {
      name: definition.name,
      version,
      role: definition.role,
      recordSchema: definition.recordSchema,
      entityKeyField: definition.entityKeyField,
      eventTimeField: definition.eventTimeField,
      ...(definition.labelField !== undefined ? { labelField: definition.labelField } : {}),
      sensitiveFields: { ...definition.sensitiveFields },
      ...(definition.description !== undefined ? { description: definition.description } : {}),
      ...(definition.owner !== undefined ? { owner: definition.owner } : {}),
      registeredAt,
    };
  }

  private async read(manager: EntityManager, name: string, version: number): Promise<DatasetVersion | undefined> {
    const cached = this.versions.get(`${name}@${version}`);
    if (cached) return cached;
    const row = await queryOne<DatasetVersionRow>(
      manager,
      `SELECT ${COLUMNS} FROM ${this.table} WHERE dataset = $1 AND version = $2`,
      [name, version],
    );
    return row ? this.remember(toDomain(row)) : undefined;
  }

  private remember(dataset: DatasetVersion): DatasetVersion {
    this.versions.set(`${dataset.name}@${dataset.version}`, dataset);
    return dataset;
  }
}

function toDomain(row: DatasetVersionRow): DatasetVersion {
  return {
    name: row.dataset,
    version: row.version,
    role: row.role as DatasetRole,
    recordSchema: row.record_schema,
    entityKeyField: row.entity_key_field,
    eventTimeField: row.event_time_field,
    ...(row.label_field !== null ? { labelField: row.label_field } : {}),
    sensitiveFields: row.sensitive_fields as Record<string, SensitiveTreatment>,
    ...(row.description !== null ? { description: row.description } : {}),
    ...(row.owner !== null ? { owner: row.owner } : {}),
    registeredAt: new Date(row.registered_at),
  };
}
