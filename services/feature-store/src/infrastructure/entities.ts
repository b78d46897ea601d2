import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

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

/** The latest registered version of a dataset (from mlops.dataset.registered.v1). */
@Entity({ name: 'datasets' })
export class DatasetEntity {
  @PrimaryColumn({ type: 'text' })
  dataset!: string;

  @Column({ type: 'integer' })
  version!: number;

  @Column({ type: 'text' })
  role!: string;

  @Column({ name: 'record_schema', type: 'jsonb' })
  recordSchema!: Record<string, unknown>;

  @Column({ name: 'entity_key_field', type: 'text' })
  entityKeyField!: string;

  @Column({ name: 'event_time_field', type: 'text' })
  eventTimeField!: string;

  @Column({ name: 'label_field', type: 'text', nullable: true })
  labelField!: string | null;

  @Column({ name: 'sensitive_fields', type: 'jsonb' })
  sensitiveFields!: string[];

  @Column({ name: 'registered_at', type: 'timestamptz' })
  registeredAt!: Date;
}

/** One immutable version of a feature view, with the dataset version it was validated against. */
@Entity({ name: 'feature_views' })
@Index('feature_views_dataset', ['dataset', 'name', 'version'])
export class FeatureViewEntity {
  @PrimaryColumn({ type: 'text' })
  name!: string;

  @PrimaryColumn({ type: 'integer' })
  version!: number;

  @Column({ type: 'text' })
  dataset!: string;

  @Column({ name: 'dataset_version', type: 'integer' })
  datasetVersion!: number;

  /** The FeatureViewDefinition as created (with its version). */
  @Column({ type: 'jsonb' })
  definition!: Record<string, unknown>;

  /** The SourceDataset the definition was validated against: the view compiles the same way forever. */
  @Column({ name: 'source_dataset', type: 'jsonb' })
  sourceDataset!: Record<string, unknown>;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** 'backfilling' until its history is replayed, then 'ready': only ready versions are materialized and served. */
  @Column({ type: 'text', default: 'ready' })
  status!: 'backfilling' | 'ready';

  @Column({ type: 'jsonb', nullable: true })
  backfill!: BackfillSummary | null;
}

/** Online store: the latest vector of each entity per view version. */
@Entity({ name: 'online_features' })
export class OnlineFeaturesEntity {
  @PrimaryColumn({ name: 'view_name', type: 'text' })
  viewName!: string;

  @PrimaryColumn({ name: 'view_version', type: 'integer' })
  viewVersion!: number;

  @PrimaryColumn({ name: 'entity_id', type: 'text' })
  entityId!: string;

  @Column({ type: 'jsonb' })
  features!: Record<string, number | string | boolean | null>;

  @Column({ name: 'event_time', type: 'timestamptz' })
  eventTime!: Date;

  @Column({ name: 'source_event_id', type: 'text' })
  sourceEventId!: string;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/** Windowed-aggregation state of each entity per view version (SerializedAggregationState). */
@Entity({ name: 'aggregation_states' })
export class AggregationStateEntity {
  @PrimaryColumn({ name: 'view_name', type: 'text' })
  viewName!: string;

  @PrimaryColumn({ name: 'view_version', type: 'integer' })
  viewVersion!: number;

  @PrimaryColumn({ name: 'entity_id', type: 'text' })
  entityId!: string;

  @Column({ type: 'jsonb' })
  state!: Record<string, unknown>;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/** Snapshot requests already answered: snapshotId -> the snapshot.created data sent for it. */
@Entity({ name: 'snapshots' })
export class SnapshotEntity {
  @PrimaryColumn({ name: 'snapshot_id', type: 'text' })
  snapshotId!: string;

  @Column({ type: 'jsonb' })
  request!: Record<string, unknown>;

  @Column({ type: 'jsonb' })
  result!: Record<string, unknown>;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

export const featureStoreEntities = [DatasetEntity, FeatureViewEntity, OnlineFeaturesEntity, AggregationStateEntity, SnapshotEntity];
