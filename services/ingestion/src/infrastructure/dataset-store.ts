import type { DataSource, EntityManager } from 'typeorm';
import type { DatasetDefinition, DatasetRole, DatasetVersion, SensitiveTreatment } from '../domain/dataset';
import type { JsonObject } from '../domain/json';
import { DatasetVersionEntity } from './entities';

/** Dataset versions in Postgres. Versions are immutable, so each is cached once read. */
export class DatasetStore {
  private readonly versions = new Map<string, DatasetVersion>();
  private readonly table: string;

  constructor(private readonly dataSource: DataSource) {
    const { schema, tableName } = dataSource.getMetadata(DatasetVersionEntity);
    this.table = schema ? `${dataSource.driver.escape(schema)}.${dataSource.driver.escape(tableName)}` : dataSource.driver.escape(tableName);
  }

  /** Asks Postgres only for the latest version number (a new version may come from another replica); its row is cached. */
  async latest(name: string, manager: EntityManager = this.dataSource.manager): Promise<DatasetVersion | undefined> {
    const rows: Array<{ version: number | null }> = await manager.query(`SELECT max(version) AS version FROM ${this.table} WHERE dataset = $1`, [name]);
    const version = rows[0]?.version;
    if (version === null || version === undefined) return undefined;
    const cached = this.versions.get(`${name}@${version}`);
    if (cached) return cached;
    const row = await manager.getRepository(DatasetVersionEntity).findOne({ where: { dataset: name, version } });
    return row ? this.remember(toDomain(row)) : undefined;
  }

  async version(name: string, version: number): Promise<DatasetVersion | undefined> {
    const cached = this.versions.get(`${name}@${version}`);
    if (cached) return cached;
    const row = await this.dataSource.getRepository(DatasetVersionEntity).findOne({ where: { dataset: name, version } });
    return row ? this.remember(toDomain(row)) : undefined;
  }

  async list(): Promise<DatasetVersion[]> {
    const rows: DatasetVersionEntity[] = await this.dataSource
      .getRepository(DatasetVersionEntity)
      .createQueryBuilder('v')
      .distinctOn(['v.dataset'])
      .orderBy('v.dataset')
      .addOrderBy('v.version', 'DESC')
      .getMany();
    return rows.map(toDomain);
  }

  /** Serialises registrations of one dataset until the caller's transaction ends. */
  async lock(manager: EntityManager, name: string): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`dataset:${name}`]);
  }

  async insert(manager: EntityManager, definition: DatasetDefinition, version: number, registeredAt: Date): Promise<DatasetVersion> {
    const row = manager.getRepository(DatasetVersionEntity).create({
      dataset: definition.name,
      version,
      role: definition.role,
      recordSchema: definition.recordSchema,
      entityKeyField: definition.entityKeyField,
      eventTimeField: definition.eventTimeField,
      labelField: definition.labelField ?? null,
      sensitiveFields: { ...definition.sensitiveFields },
      description: definition.description ?? null,
      owner: definition.owner ?? null,
      registeredAt,
    });
    await manager.getRepository(DatasetVersionEntity).save(row);
    return toDomain(row);
  }

  private remember(dataset: DatasetVersion): DatasetVersion {
    this.versions.set(`${dataset.name}@${dataset.version}`, dataset);
    return dataset;
  }
}

function toDomain(row: DatasetVersionEntity): DatasetVersion {
  return {
    name: row.dataset,
    version: row.version,
    role: row.role as DatasetRole,
    recordSchema: row.recordSchema as JsonObject,
    entityKeyField: row.entityKeyField,
    eventTimeField: row.eventTimeField,
    ...(row.labelField !== null ? { labelField: row.labelField } : {}),
    sensitiveFields: row.sensitiveFields as Record<string, SensitiveTreatment>,
    ...(row.description !== null ? { description: row.description } : {}),
    ...(row.owner !== null ? { owner: row.owner } : {}),
    registeredAt: new Date(row.registeredAt),
  };
}
