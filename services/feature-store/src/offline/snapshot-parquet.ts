import type { SnapshotColumn } from './snapshot-format';

export const PARQUET_MEDIA_TYPE = 'application/vnd.apache.parquet';
const ROW_GROUP_ROWS = 100_000;

/**
 * The training set as Parquet, typed columns: entity_id string, event_time TIMESTAMP_MILLIS (UTC), each feature and
 * the label DOUBLE, BOOLEAN or STRING as its column type says; every column nullable. Written deterministically
 * (fixed row groups, no time or host in the footer), so equal rows give equal bytes. The column roles are in the
 * footer's key-value metadata (`mlops.columns`). Rows are the NDJSON rows, in the same order.
 */
export async function encodeParquet(
  columns: readonly SnapshotColumn[],
  lines: ReadonlyArray<Record<string, unknown>>,
): Promise<Buffer> {
  // hyparquet-writer is an ES module: loaded by dynamic import from this CommonJS build.
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const columnData = columns.map((column) => {
    if (column.role === 'event_time')
      return {
        name: column.name,
        type: 'TIMESTAMP' as const,
        data: lines.map((line) =>
          typeof line[column.name] === 'string' ? new Date(line[column.name] as string) : null,
        ),
      };
    const type =
      column.type === 'number'
        ? ('DOUBLE' as const)
        : column.type === 'boolean'
          ? ('BOOLEAN' as const)
          : ('STRING' as const);
    return { name: column.name, type, data: lines.map((line) => (line[column.name] ?? null) as unknown) };
  });
  const buffer = parquetWriteBuffer({
    columnData,
    rowGroupSize: ROW_GROUP_ROWS,
    createdBy: 'mlops feature-store',
    kvMetadata: [{ key: 'mlops.columns', value: JSON.stringify(columns) }],
  });
  return Buffer.from(buffer);
}
