import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One immutable version of a dataset's definition. */
@Entity({ name: 'dataset_versions' })
export class DatasetVersionEntity {
  @PrimaryColumn({ type: 'text' })
  dataset!: string;

  @PrimaryColumn({ type: 'integer' })
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
  sensitiveFields!: Record<string, string>;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Column({ type: 'text', nullable: true })
  owner!: string | null;

  @Column({ name: 'registered_at', type: 'timestamptz' })
  registeredAt!: Date;
}

/** Record ids accepted recently: a retry of one is answered `duplicate` instead of being emitted again. */
@Entity({ name: 'accepted_records' })
@Index('accepted_records_accepted_at', ['acceptedAt'])
export class AcceptedRecordEntity {
  @PrimaryColumn({ type: 'text' })
  dataset!: string;

  @PrimaryColumn({ name: 'record_id', type: 'text' })
  recordId!: string;

  @Column({ name: 'event_id', type: 'text' })
  eventId!: string;

  @Column({ name: 'accepted_at', type: 'timestamptz', default: () => 'now()' })
  acceptedAt!: Date;
}

export const ingestionEntities = [DatasetVersionEntity, AcceptedRecordEntity];
