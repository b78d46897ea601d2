import type { ClickHouseClient } from '@mlops/storage';
import {
  MonitorTables,
  REFERENCE_EDGES,
  assertDatabaseName,
  predictionBinsSelect,
  referenceEdgesSelect,
} from './clickhouse-tables';

/** What one pass of the binner did. */
export interface BinningPass {
  /** Minutes (of some model version) binned again. */
  readonly minutes: number;
  /** Every prediction row inserted with a block number up to this one is in the bins now. */
  readonly predictionsBlock: number;
  readonly referencesBlock: number;
}

/**
 * Rows inserted after insert number {block}: the part's name (`<partition>_<min>_<max>_<level>`) skips whole parts
 * of older inserts without reading them, the row's `_block_number` decides within a merged part.
 */
const NEW_ROWS = `toUInt64(splitByChar('_', _part)[3]) > {block:UInt64} AND _block_number > {block:UInt64}`;

/** Most minutes binned by one INSERT (bounds the size of the query's parameter). */
const MINUTES_PER_INSERT = 5_000;

/**
 * Keeps `prediction_minute_bins` up to date off the insert path: the sink only inserts predictions, and a pass bins
 * again, from the deduplicated rows, every minute that received rows since the last pass (and every minute of a
 * version whose reference arrived since). ClickHouse numbers inserts in the order they become visible and every
 * row keeps its insert's number (`_block_number`), so "since the last pass" is exact: a pass reads the rows above
 * the number it stored last, and a redelivered copy (a new insert) makes its minute be binned again, once, from
 * FINAL. A minute's new binning replaces the last one (reads take the latest `computed_at` of each minute).
 * Passes run one at a time in this process; passes of two processes on one server only repeat work.
 */
export class PredictionBinner {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly clickhouse: ClickHouseClient,
    private readonly database: string,
  ) {
    assertDatabaseName(database);
  }

  /** Bins what was inserted since the last pass (every stored prediction the first time). */
  catchUp(): Promise<BinningPass> {
    const pass = this.queue.then(() => this.pass());
    this.queue = pass.catch(() => undefined);
    return pass;
  }

  /** Forgets the progress and bins every stored prediction again. */
  rebuild(): Promise<BinningPass> {
    const pass = this.queue.then(async () => {
      await this.storeProgress(0, 0);
      return this.pass();
    });
    this.queue = pass.catch(() => undefined);
    return pass;
  }

  private async pass(): Promise<BinningPass> {
    const db = this.database;
    let { predictionsBlock, referencesBlock } = await this.progress();
    const highestPrediction = await this.highestBlock(MonitorTables.predictions);
    const highestReference = await this.highestBlock(MonitorTables.references);
    // A table emptied and made again numbers its inserts from 0: then nothing of it is binned.
    if (highestPrediction < predictionsBlock) predictionsBlock = 0;
    if (highestReference < referencesBlock) referencesBlock = 0;

    const references =
      highestReference > referencesBlock
        ? await this.rows<{ model: string; version: number; top: string }>(
            `SELECT model, version, max(_block_number) AS top FROM ${db}.${MonitorTables.references}
             WHERE ${NEW_ROWS} GROUP BY model, version`,
            { block: referencesBlock },
          )
        : [];
    const dirty = new Map<string, { model: string; version: number; minutes: Set<number> }>();
    const add = (model: string, version: number, minute: number): void => {
      const key = `${model}\u0000${version}`;
      let entry = dirty.get(key);
      if (!entry) {
        entry = { model, version: Number(version), minutes: new Set() };
        dirty.set(key, entry);
      }
      entry.minutes.add(Number(minute));
    };
    let newReferencesBlock = referencesBlock;
    if (references.length > 0) {
      // The versions' edges (the view on references also adds them; a Join of ANY keeps the first copy).
      await this.clickhouse.command({
        query: `INSERT INTO ${db}.${REFERENCE_EDGES} ${referenceEdgesSelect(db, true, NEW_ROWS)}`,
        query_params: { block: referencesBlock },
      });
      for (const reference of references) newReferencesBlock = Math.max(newReferencesBlock, Number(reference.top));
      // Every minute of a version whose reference is new: its numeric values can be binned now.
      const minutes = await this.rows<{ model: string; version: number; minute: number }>(
        `SELECT DISTINCT model, version, toUInt32(toUnixTimestamp(toStartOfMinute(timestamp))) AS minute
         FROM ${db}.${MonitorTables.predictions}
         WHERE (model, version) IN (SELECT model, version FROM ${db}.${MonitorTables.references}
                                    WHERE ${NEW_ROWS})`,
        { block: referencesBlock },
      );
      for (const row of minutes) add(row.model, row.version, row.minute);
    }
    const inserted =
      highestPrediction > predictionsBlock
        ? await this.rows<{ model: string; version: number; minute: number; top: string }>(
            `SELECT model, version, toUInt32(toUnixTimestamp(toStartOfMinute(timestamp))) AS minute,
               max(_block_number) AS top
             FROM ${db}.${MonitorTables.predictions} WHERE ${NEW_ROWS}
             GROUP BY model, version, minute`,
            { block: predictionsBlock },
          )
        : [];
    let newPredictionsBlock = predictionsBlock;
    for (const row of inserted) {
      add(row.model, row.version, row.minute);
      newPredictionsBlock = Math.max(newPredictionsBlock, Number(row.top));
    }

    let minutes = 0;
    for (const { model, version, minutes: set } of dirty.values()) {
      const sorted = [...set].sort((a, b) => a - b);
      for (let i = 0; i < sorted.length; i += MINUTES_PER_INSERT) {
        const chunk = sorted.slice(i, i + MINUTES_PER_INSERT);
        await this.clickhouse.command({
          query: `INSERT INTO ${db}.${MonitorTables.predictionBins}
            ${predictionBinsSelect(
              db,
              `p.model = {model:String} AND p.version = {version:UInt32}
               AND p.timestamp >= toDateTime64({from:UInt32}, 3, 'UTC') AND p.timestamp < toDateTime64({to:UInt32}, 3, 'UTC')
               AND toUInt32(toUnixTimestamp(toStartOfMinute(p.timestamp))) IN {minutes:Array(UInt32)}`,
            )}`,
          query_params: {
            model,
            version,
            from: chunk[0] as number,
            to: (chunk[chunk.length - 1] as number) + 60,
            minutes: chunk,
          },
        });
        minutes += chunk.length;
      }
    }
    if (newPredictionsBlock !== predictionsBlock || newReferencesBlock !== referencesBlock)
      await this.storeProgress(newPredictionsBlock, newReferencesBlock);
    return { minutes, predictionsBlock: newPredictionsBlock, referencesBlock: newReferencesBlock };
  }

  private async progress(): Promise<{ predictionsBlock: number; referencesBlock: number }> {
    const [row] = await this.rows<{ predictions_block: string; references_block: string }>(
      `SELECT predictions_block, references_block FROM ${this.database}.${MonitorTables.binsProgress} FINAL
       WHERE id = 0`,
      {},
    );
    return {
      predictionsBlock: Number(row?.predictions_block ?? 0),
      referencesBlock: Number(row?.references_block ?? 0),
    };
  }

  private async storeProgress(predictionsBlock: number, referencesBlock: number): Promise<void> {
    await this.clickhouse.command({
      query: `INSERT INTO ${this.database}.${MonitorTables.binsProgress}
              SELECT 0, {predictions:UInt64}, {references:UInt64}, now64(6)`,
      query_params: { predictions: predictionsBlock, references: referencesBlock },
    });
  }

  /** The highest insert number among the table's parts (0 when empty). */
  private async highestBlock(table: string): Promise<number> {
    const [row] = await this.rows<{ top: string | null }>(
      `SELECT max(max_block_number) AS top FROM system.parts
       WHERE database = {database:String} AND table = {table:String} AND active`,
      { database: this.database, table },
    );
    return Number(row?.top ?? 0);
  }

  private async rows<T>(query: string, params: Record<string, unknown>): Promise<T[]> {
    const result = await this.clickhouse.query({ query, format: 'JSONEachRow', query_params: params });
    return result.json<T>();
  }
}

/** Forgets the binner's progress and bins every stored prediction again (as after an upgrade). */
export function rebuildPredictionBins(clickhouse: ClickHouseClient, database: string): Promise<BinningPass> {
  return new PredictionBinner(clickhouse, database).rebuild();
}
