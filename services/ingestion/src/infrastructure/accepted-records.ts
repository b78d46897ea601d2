import type { DataSource, EntityManager } from 'typeorm';
import { execute, query } from '@mlops/storage';
import { ingestionTables } from './tables';

interface AcceptedRecordRow {
  record_id: string;
}

/** The bounded table of record ids already accepted, per dataset. */
export class AcceptedRecords {
  private readonly table: string;

  constructor(
    private readonly dataSource: DataSource,
    schema: string,
  ) {
    this.table = ingestionTables(schema).accepted_records;
  }

  /** Which of these record ids were already accepted. */
  async alreadyAccepted(dataset: string, recordIds: readonly string[]): Promise<Set<string>> {
    if (recordIds.length === 0) return new Set();
    const rows = await query<AcceptedRecordRow>(
      this.dataSource.manager,
      `SELECT record_id FROM ${this.table} WHERE dataset = $1 AND record_id = ANY($2::text[])`,
      [dataset, recordIds],
    );
    return new Set(rows.map((r) => r.record_id));
  }

  /** Records ids as accepted; returns those that were not already there. */
  async markAccepted(
    dataset: string,
    rows: ReadonlyArray<{ recordId: string; eventId: string }>,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const inserted = await query<AcceptedRecordRow>(
      manager,
      `INSERT INTO ${this.table} (dataset, record_id, event_id)
       SELECT $1, r, e FROM unnest($2::text[], $3::text[]) AS t(r, e)
       ON CONFLICT DO NOTHING RETURNING record_id`,
      [dataset, rows.map((r) => r.recordId), rows.map((r) => r.eventId)],
    );
    return new Set(inserted.map((r) => r.record_id));
  }

  /** Keeps the table bounded: forgets ids older than the retention, then the oldest beyond maxRows. Returns rows deleted. */
  async prune(retentionMs: number, maxRows: number): Promise<number> {
    const aged = await execute(
      this.dataSource.manager,
      `DELETE FROM ${this.table} WHERE accepted_at < now() - ($1::bigint * interval '1 millisecond')`,
      [retentionMs],
    );
    const overflow = await execute(
      this.dataSource.manager,
      `DELETE FROM ${this.table} WHERE accepted_at < (
         SELECT accepted_at FROM ${this.table} ORDER BY accepted_at DESC OFFSET $1 LIMIT 1)`,
      [maxRows - 1],
    );
    return aged + overflow;
  }
}
