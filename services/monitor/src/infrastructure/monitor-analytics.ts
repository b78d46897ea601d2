import type { ClickHouseClient } from '@mlops/storage';
import type { FeatureDriftStats, LiveMetric, WindowPerformance, WindowPolicy } from '../domain';
import { MonitorTables, RESOURCE_USE_VIEW, chTimeOf } from './clickhouse-tables';
import { type DriftSqlRow, type ReferenceLayout, binnedDriftSql, driftSql, unbinnedPredictionsSql } from './drift-sql';
import { type PerformanceSqlRow, performanceSql } from './performance-sql';
import { PredictionBinner } from './prediction-binner';

/** The drift statistics of one complete window. */
export interface DriftWindow {
  readonly key: number;
  readonly start: string;
  readonly end: string;
  readonly alias: string;
  readonly rows: number;
  readonly stats: FeatureDriftStats[];
}

export interface StoredDriftRow {
  model: string;
  version: number;
  window_start: string;
  window_end: string;
  feature: string;
  kind: string;
  sample_size: number;
  psi: number | null;
  js_distance: number | null;
  ks_statistic: number | null;
  ks_p_value: number | null;
  wasserstein_norm: number | null;
  chi_squared: number | null;
  chi_squared_p_value: number | null;
  drifted_share: number | null;
  drifted: number;
}

export interface StoredPerformanceRow {
  model: string;
  version: number;
  serving_role: string;
  window_start: string;
  window_end: string;
  predictions: number;
  labeled: number;
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  auc: number | null;
  rmse: number | null;
  mae: number | null;
}

export interface StoredResourceRow {
  version: number;
  window_start: string;
  window_end: string;
  predictions: number;
  cpu_seconds: number;
  cpu_seconds_per_1000: number | null;
  max_rss_bytes: number | null;
  instances: number;
}

const iso = (time: string): string => new Date(time).toISOString();
const num = (value: number | string | null): number => Number(value ?? 0);

/** The monitor's ClickHouse reads and result writes; every statistic is computed by ClickHouse. */
export class MonitorAnalytics {
  /** Keeps the histograms the binned drift reads (off the insert path: a pass before each binned read). */
  readonly binner: PredictionBinner;

  constructor(
    readonly clickhouse: ClickHouseClient,
    readonly database: string,
  ) {
    this.binner = new PredictionBinner(clickhouse, database);
  }

  /**
   * The complete windows from `fromKey` on, of the predictions made before `until`: from the histograms of the
   * binner (brought up to date first) when the windows are whole minutes and every prediction read was binned;
   * from the raw rows otherwise (count windows, windows of odd seconds, a version without a reference).
   */
  async drift(
    model: string,
    version: number,
    window: WindowPolicy,
    fromKey: number,
    until: Date,
  ): Promise<DriftWindow[]> {
    if (window.by === 'time' && window.seconds % 60 === 0) {
      await this.binner.catchUp();
      const unbinned = await this.unbinnedPredictions(model, version, window.seconds * 1000, fromKey, until);
      if (unbinned === 0) return this.driftFromBins(model, version, window, fromKey, until);
    }
    return this.driftFromRows(model, version, window, fromKey, until);
  }

  /** drift() read from the raw prediction rows (every window kind). */
  async driftFromRows(
    model: string,
    version: number,
    window: WindowPolicy,
    fromKey: number,
    until: Date,
  ): Promise<DriftWindow[]> {
    const layout = await this.referenceLayout(model, version);
    if (layout.numeric.length === 0 && layout.categorical.length === 0) return [];
    return this.driftWindows(driftSql(this.database, window, layout), {
      model,
      version,
      until: chTimeOf(until),
      fromKey,
      ...(window.by === 'time' ? { windowMs: window.seconds * 1000 } : { windowSize: window.size }),
    });
  }

  /** drift() read from the binner's histograms as they are (no pass first): time windows of whole minutes only. */
  async driftFromBins(
    model: string,
    version: number,
    window: { by: 'time'; seconds: number },
    fromKey: number,
    until: Date,
  ): Promise<DriftWindow[]> {
    if (window.seconds % 60 !== 0)
      throw new Error(`binned drift needs windows of whole minutes, not ${window.seconds} s`);
    const layout = await this.referenceLayout(model, version);
    if (layout.numeric.length === 0 && layout.categorical.length === 0) return [];
    return this.driftWindows(binnedDriftSql(this.database, layout), {
      model,
      version,
      until: chTimeOf(until),
      fromKey,
      windowMs: window.seconds * 1000,
    });
  }

  /** Predictions of the windows read that were binned before the version's reference was known. */
  async unbinnedPredictions(
    model: string,
    version: number,
    windowMs: number,
    fromKey: number,
    until: Date,
  ): Promise<number> {
    const result = await this.clickhouse.query({
      query: unbinnedPredictionsSql(this.database),
      format: 'JSONEachRow',
      query_params: { model, version, windowMs, fromKey, until: chTimeOf(until) },
    });
    const [row] = await result.json<{ unbinned: number | string | null }>();
    return num(row?.unbinned ?? 0);
  }

  private async driftWindows(query: string, params: Record<string, unknown>): Promise<DriftWindow[]> {
    const result = await this.clickhouse.query({ query, format: 'JSONEachRow', query_params: params });
    const windows = new Map<number, DriftWindow>();
    for (const row of await result.json<DriftSqlRow>()) {
      const key = num(row.window_key);
      let w = windows.get(key);
      if (!w) {
        w = {
          key,
          start: iso(row.window_start),
          end: iso(row.window_end),
          alias: row.alias,
          rows: num(row.rows_in_window),
          stats: [],
        };
        windows.set(key, w);
      }
      w.stats.push({
        feature: row.feature,
        kind: row.kind,
        sampleSize: num(row.sample_size),
        referenceSize: num(row.reference_size),
        psi: row.psi,
        jsDistance: row.js_distance,
        ksStatistic: row.ks_statistic,
        ksPValue: row.ks_p_value,
        wassersteinNorm: row.wasserstein_norm,
        chiSquared: row.chi_squared,
        chiSquaredPValue: row.chi_squared_p_value,
        degreesOfFreedom: row.degrees_of_freedom === null ? null : num(row.degrees_of_freedom),
      });
    }
    return [...windows.values()].sort((a, b) => a.key - b.key);
  }

  /** Which features a version's reference has, numeric ones with their edges (a few rows). */
  async referenceLayout(model: string, version: number): Promise<ReferenceLayout> {
    const rows = await (
      await this.clickhouse.query({
        query: `SELECT feature, kind, edges FROM ${this.database}.${MonitorTables.references} FINAL
                WHERE model = {model:String} AND version = {version:UInt32} ORDER BY feature`,
        format: 'JSONEachRow',
        query_params: { model, version },
      })
    ).json<{ feature: string; kind: string; edges: number[] }>();
    return {
      numeric: rows.filter((r) => r.kind === 'numeric').map((r) => ({ feature: r.feature, edges: r.edges })),
      categorical: rows.filter((r) => r.kind === 'categorical').map((r) => r.feature),
    };
  }

  /** Complete windows (end + horizon before `until`) of labelled performance, per serving role. */
  async performance(
    model: string,
    version: number,
    labels: { dataset: string; field: string; requestIdField?: string | null },
    windowMs: number,
    horizonMs: number,
    fromKey: number,
    until: Date,
  ): Promise<Array<WindowPerformance & { alias: string }>> {
    const result = await this.clickhouse.query({
      query: performanceSql(this.database),
      format: 'JSONEachRow',
      query_params: {
        model,
        version,
        dataset: labels.dataset,
        field: labels.field,
        requestIdField: labels.requestIdField ?? '',
        until: chTimeOf(until),
        fromKey,
        windowMs,
        horizonMs,
      },
      clickhouse_settings: { join_use_nulls: 0 },
    });
    return (await result.json<PerformanceSqlRow>()).map((row) => {
      const metrics: Partial<Record<LiveMetric, number | null>> = {
        accuracy: row.accuracy,
        precision: row.precision,
        recall: row.recall,
        f1: row.f1,
        auc: row.auc === null || Number.isNaN(row.auc) ? null : row.auc,
        rmse: row.rmse,
        mae: row.mae,
      };
      return {
        servingRole: row.serving_role,
        alias: row.alias,
        windowKey: num(row.window_key),
        windowStart: iso(row.window_start),
        windowEnd: iso(row.window_end),
        predictions: num(row.predictions),
        labeled: num(row.labeled_count),
        metrics,
      };
    });
  }

  /** Labels of a dataset that arrived (validated) after `since`. */
  async labelsSince(dataset: string, since: Date): Promise<number> {
    const result = await this.clickhouse.query({
      query: `SELECT count() AS n FROM ${this.database}.${MonitorTables.labels} FINAL
              WHERE dataset = {dataset:String} AND validated_at > {since:DateTime64(3, 'UTC')}`,
      format: 'JSONEachRow',
      query_params: { dataset, since: chTimeOf(since) },
    });
    const [row] = await result.json<{ n: number | string }>();
    return num(row?.n ?? 0);
  }

  async saveDrift(rows: readonly StoredDriftRow[], evaluatedAt: Date): Promise<void> {
    if (rows.length === 0) return;
    await this.clickhouse.insert({
      table: `${this.database}.${MonitorTables.driftResults}`,
      values: rows.map((r) => ({
        ...r,
        window_start: chTimeOf(r.window_start),
        window_end: chTimeOf(r.window_end),
        evaluated_at: chTimeOf(evaluatedAt),
      })),
      format: 'JSONEachRow',
    });
  }

  async savePerformance(rows: readonly StoredPerformanceRow[], evaluatedAt: Date): Promise<void> {
    if (rows.length === 0) return;
    await this.clickhouse.insert({
      table: `${this.database}.${MonitorTables.performanceResults}`,
      values: rows.map((r) => ({
        ...r,
        window_start: chTimeOf(r.window_start),
        window_end: chTimeOf(r.window_end),
        evaluated_at: chTimeOf(evaluatedAt),
      })),
      format: 'JSONEachRow',
    });
  }

  async driftHistory(model: string, version?: number): Promise<StoredDriftRow[]> {
    return this.rows<StoredDriftRow>(
      `SELECT model, version, ${isoOf('window_start')}, ${isoOf('window_end')}, feature, kind, sample_size, psi,
         js_distance, ks_statistic, ks_p_value, wasserstein_norm, chi_squared, chi_squared_p_value, drifted_share, drifted
       FROM ${this.database}.${MonitorTables.driftResults} FINAL
       WHERE model = {model:String} ${version === undefined ? '' : 'AND version = {version:UInt32}'}
       ORDER BY window_start, version, feature`,
      { model, ...(version === undefined ? {} : { version }) },
    );
  }

  async performanceHistory(model: string, version?: number): Promise<StoredPerformanceRow[]> {
    return this.rows<StoredPerformanceRow>(
      `SELECT model, version, serving_role, ${isoOf('window_start')}, ${isoOf('window_end')}, predictions, labeled,
         accuracy, precision, recall, f1, auc, rmse, mae
       FROM ${this.database}.${MonitorTables.performanceResults} FINAL
       WHERE model = {model:String} ${version === undefined ? '' : 'AND version = {version:UInt32}'}
       ORDER BY window_start, version, serving_role`,
      { model, ...(version === undefined ? {} : { version }) },
    );
  }

  /** Cost proxy and memory per version and tumbling window of `windowSeconds` (aligned on the Unix epoch). */
  async resourceUse(model: string, windowSeconds: number, version?: number): Promise<StoredResourceRow[]> {
    return this.rows<StoredResourceRow>(
      `SELECT version, ${isoOf('window_start')}, ${isoOf('window_end')}, predictions, cpu_seconds,
         if(predictions > 0, 1000 * cpu_seconds / predictions, NULL) AS cpu_seconds_per_1000, max_rss_bytes, instances
       FROM (
         SELECT version, intDiv(toUnixTimestamp(minute), {windowSeconds:UInt32}) AS window_key,
           toDateTime64(window_key * {windowSeconds:UInt32}, 3, 'UTC') AS window_start,
           toDateTime64((window_key + 1) * {windowSeconds:UInt32}, 3, 'UTC') AS window_end,
           sum(predictions) AS predictions, sum(cpu_seconds) AS cpu_seconds, max(max_rss_bytes) AS max_rss_bytes,
           max(instances) AS instances
         FROM ${this.database}.${RESOURCE_USE_VIEW}
         WHERE model = {model:String} ${version === undefined ? '' : 'AND version = {version:UInt32}'}
         GROUP BY version, window_key
       ) ORDER BY window_start, version`,
      { model, windowSeconds, ...(version === undefined ? {} : { version }) },
    );
  }

  /** Deployments and promotions of a model, for the versions marked on the report. */
  async versionMarks(model: string): Promise<Array<{ kind: string; version: number | null; at: string }>> {
    return this.rows(
      `SELECT kind, version, ${isoOf('at')} FROM (
         SELECT 'deployed' AS kind, toNullable(version) AS version, at FROM ${this.database}.${MonitorTables.deployments} FINAL
         WHERE model = {model:String} AND outcome = 'succeeded'
         UNION ALL
         SELECT kind, version, at FROM ${this.database}.${MonitorTables.registryEvents} FINAL
         WHERE model = {model:String} AND kind IN ('promoted', 'training_requested')
       ) ORDER BY at`,
      { model },
    );
  }

  private async rows<T>(query: string, params: Record<string, unknown>): Promise<T[]> {
    const result = await this.clickhouse.query({ query, format: 'JSONEachRow', query_params: params });
    return (await result.json<Record<string, unknown>>()).map((row) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row))
        out[k] = typeof v === 'string' && /^\d+$/.test(v) && k !== 'feature' ? Number(v) : v;
      return out as T;
    });
  }
}

const isoOf = (column: string): string => `formatDateTime(${column}, '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC') AS ${column}`;
