import type { ClickHouseClient } from '@mlops/storage';
import { PREDICTION_FEATURE } from '../domain';

/** The monitor's ClickHouse tables; README.md documents each with the queries an analyst runs. */
export const MonitorTables = {
  predictions: 'predictions',
  featureStream: 'feature_stream',
  labels: 'labels',
  dataQuality: 'data_quality',
  deployments: 'deployments',
  registryEvents: 'registry_events',
  references: 'reference_distributions',
  driftResults: 'drift_results',
  performanceResults: 'performance_results',
  predictionBins: 'prediction_minute_bins',
  binsProgress: 'prediction_bins_progress',
} as const;

export type MonitorTable = (typeof MonitorTables)[keyof typeof MonitorTables];

/**
 * Every sink table is a ReplacingMergeTree whose sorting key ends with the CloudEvents id: a redelivered event
 * writes the same key again, and reads deduplicate with FINAL (merges also drop the copy in the background).
 * Times are DateTime64(3, 'UTC').
 */
export function monitorTableDdl(database: string): string[] {
  assertDatabaseName(database);
  const t = (name: MonitorTable): string => `${database}.${name}`;
  return [
    `CREATE TABLE IF NOT EXISTS ${t(MonitorTables.predictions)} (
      event_id String COMMENT 'CloudEvents id of mlops.prediction.logged.v1: the row counts once',
      request_id String,
      model LowCardinality(String),
      alias LowCardinality(String),
      version UInt32,
      serving_role LowCardinality(String) COMMENT 'the arm: primary, canary or shadow',
      channel LowCardinality(String),
      entity_id String,
      timestamp DateTime64(3, 'UTC') COMMENT 'when the prediction was made',
      score Float64 COMMENT 'output.value: probability of the positive class, or the regression value',
      output_label Nullable(String),
      num_features Map(String, Float64) COMMENT 'numeric features (booleans as 0/1); nulls left out',
      cat_features Map(String, String) COMMENT 'string (categorical) features; nulls left out',
      missing_features Array(String),
      latency_ms Float64,
      logged_at DateTime64(3, 'UTC') COMMENT 'CloudEvents time of the log event',
      duplicate UInt8 DEFAULT 0 COMMENT 'no longer written (0): the bins are made from the deduplicated rows',
      instance_id String DEFAULT '' COMMENT 'resources.instanceId: the serving process; empty when the event had no sample',
      process_cpu_seconds Nullable(Float64) COMMENT 'resources.cpuSeconds: CPU the serving process used since it started',
      process_rss_bytes Nullable(Float64) COMMENT 'resources.rssBytes: its resident memory'
    ) ENGINE = ReplacingMergeTree
    PARTITION BY toYYYYMM(timestamp)
    ORDER BY (model, version, timestamp, event_id)
    SETTINGS enable_block_number_column = 1`,
    // Tables made before the column existed get it (nothing to rewrite: old rows read the default).
    `ALTER TABLE ${t(MonitorTables.predictions)} ADD COLUMN IF NOT EXISTS duplicate UInt8 DEFAULT 0`,
    `ALTER TABLE ${t(MonitorTables.predictions)} ADD COLUMN IF NOT EXISTS instance_id String DEFAULT ''`,
    `ALTER TABLE ${t(MonitorTables.predictions)} ADD COLUMN IF NOT EXISTS process_cpu_seconds Nullable(Float64)`,
    `ALTER TABLE ${t(MonitorTables.predictions)} ADD COLUMN IF NOT EXISTS process_rss_bytes Nullable(Float64)`,
    `CREATE TABLE IF NOT EXISTS ${t(MonitorTables.featureStream)} (
      event_id String,
      view_name LowCardinality(String),
      view_version UInt32,
      entity_id String,
      event_time DateTime64(3, 'UTC'),
      materialized_at DateTime64(3, 'UTC'),
      num_features Map(String, Float64),
      cat_features Map(String, String)
    ) ENGINE = ReplacingMergeTree
    PARTITION BY toYYYYMM(event_time)
    ORDER BY (view_name, view_version, event_time, event_id)`,
    `CREATE TABLE IF NOT EXISTS ${t(MonitorTables.labels)} (
      event_id String,
      dataset LowCardinality(String),
      dataset_version UInt32,
      entity_id String,
      event_time DateTime64(3, 'UTC') COMMENT 'when the outcome happened',
      validated_at DateTime64(3, 'UTC') COMMENT 'when ingestion accepted it: the label arrived',
      record String COMMENT 'the validated record, a JSON object',
      num_values Map(String, Float64) COMMENT 'numeric and boolean (0/1) fields of the record',
      str_values Map(String, String) COMMENT 'string fields of the record'
    ) ENGINE = ReplacingMergeTree
    PARTITION BY toYYYYMM(event_time)
    ORDER BY (dataset, entity_id, event_time, event_id)`,
    `CREATE TABLE IF NOT EXISTS ${t(MonitorTables.dataQuality)} (
      event_id String,
      dataset LowCardinality(String),
      window_start DateTime64(3, 'UTC'),
      window_end DateTime64(3, 'UTC'),
      accepted UInt64,
      rejected UInt64,
      duplicates UInt64,
      rejected_by_kind Map(String, UInt64),
      null_rates Map(String, Float64)
    ) ENGINE = ReplacingMergeTree
    ORDER BY (dataset, window_start, event_id)`,
    `CREATE TABLE IF NOT EXISTS ${t(MonitorTables.deployments)} (
      event_id String,
      model LowCardinality(String),
      alias LowCardinality(String),
      version UInt32,
      outcome LowCardinality(String) COMMENT 'succeeded or failed',
      strategy LowCardinality(String),
      instance_id String,
      previous_version Nullable(UInt32),
      stage Nullable(String),
      error_code Nullable(String),
      warmup_ms Nullable(Float64),
      at DateTime64(3, 'UTC') COMMENT 'servingSince or failedAt'
    ) ENGINE = ReplacingMergeTree
    ORDER BY (model, at, event_id)`,
    `CREATE TABLE IF NOT EXISTS ${t(MonitorTables.registryEvents)} (
      event_id String,
      kind LowCardinality(String) COMMENT 'trained, registered, promoted, training_failed, drift_detected, degraded, training_requested',
      model LowCardinality(String),
      version Nullable(UInt32),
      alias Nullable(String),
      training_run_id Nullable(String),
      trigger Nullable(String),
      at DateTime64(3, 'UTC'),
      detail String COMMENT 'the event data, JSON'
    ) ENGINE = ReplacingMergeTree
    ORDER BY (model, at, event_id)`,
    `CREATE TABLE IF NOT EXISTS ${t(MonitorTables.references)} (
      model LowCardinality(String),
      version UInt32,
      feature String COMMENT 'an input feature, or $prediction for the score',
      kind LowCardinality(String) COMMENT 'numeric or categorical',
      edges Array(Float64) COMMENT 'numeric: ascending bin edges, one more than counts',
      categories Array(String) COMMENT 'categorical: the categories, in the order of counts',
      counts Array(Float64),
      null_count Float64
    ) ENGINE = ReplacingMergeTree
    ORDER BY (model, version, feature)
    SETTINGS enable_block_number_column = 1`,
    // Before the binner the bins were summed at insert by a view; both go (the bins are derived: made again).
    `DROP VIEW IF EXISTS ${database}.${LEGACY_PREDICTION_BINS_VIEW}`,
    `DROP TABLE IF EXISTS ${database}.${LEGACY_PREDICTION_BINS}`,
    `CREATE TABLE IF NOT EXISTS ${t(MonitorTables.predictionBins)} (
      model LowCardinality(String),
      version UInt32,
      minute DateTime('UTC') COMMENT 'the minute of the predictions counted (time windows are whole minutes)',
      feature String COMMENT '"": every prediction (bin 1 when the version had its reference when binned, 0 when not); else a numeric feature or $prediction (bin 1..k of the reference edges) or a categorical one (bin 0, category)',
      bin UInt32,
      category String,
      predictions UInt64,
      alias LowCardinality(String),
      computed_at DateTime64(6, 'UTC') COMMENT 'when the minute was binned: a read takes the latest binning of each minute'
    ) ENGINE = ReplacingMergeTree(computed_at)
    PARTITION BY toYYYYMM(minute)
    ORDER BY (model, version, minute, feature, bin, category)`,
    `CREATE TABLE IF NOT EXISTS ${t(MonitorTables.binsProgress)} (
      id UInt8,
      predictions_block UInt64 COMMENT 'every prediction row with _block_number up to this is binned',
      references_block UInt64 COMMENT 'every reference row with _block_number up to this is in the bins',
      updated_at DateTime64(6, 'UTC')
    ) ENGINE = ReplacingMergeTree(updated_at)
    ORDER BY id`,
    // The inner bin edges of every version's numeric features (and a "" row per version: its reference is known),
    // in memory for joinGet: the binner looks edges up per value with no join to build.
    `CREATE TABLE IF NOT EXISTS ${database}.${REFERENCE_EDGES} (
      model String,
      version UInt32,
      feature String,
      known UInt8,
      inner_edges Array(Float64)
    ) ENGINE = Join(ANY, LEFT, model, version, feature)`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.${REFERENCE_EDGES}_mv TO ${database}.${REFERENCE_EDGES} AS
      ${referenceEdgesSelect(database, false)}`,
    `CREATE TABLE IF NOT EXISTS ${t(MonitorTables.driftResults)} (
      model LowCardinality(String),
      version UInt32,
      window_start DateTime64(3, 'UTC'),
      window_end DateTime64(3, 'UTC'),
      feature String COMMENT 'an input feature, $prediction, or $dataset for the share of drifted features',
      kind LowCardinality(String),
      sample_size UInt64,
      psi Nullable(Float64),
      js_distance Nullable(Float64),
      ks_statistic Nullable(Float64),
      ks_p_value Nullable(Float64),
      wasserstein_norm Nullable(Float64),
      chi_squared Nullable(Float64),
      chi_squared_p_value Nullable(Float64),
      drifted_share Nullable(Float64),
      drifted UInt8,
      evaluated_at DateTime64(3, 'UTC')
    ) ENGINE = ReplacingMergeTree(evaluated_at)
    ORDER BY (model, version, window_start, feature)`,
    `CREATE TABLE IF NOT EXISTS ${t(MonitorTables.performanceResults)} (
      model LowCardinality(String),
      version UInt32,
      serving_role LowCardinality(String),
      window_start DateTime64(3, 'UTC'),
      window_end DateTime64(3, 'UTC'),
      predictions UInt64,
      labeled UInt64,
      accuracy Nullable(Float64),
      precision Nullable(Float64),
      recall Nullable(Float64),
      f1 Nullable(Float64),
      auc Nullable(Float64),
      rmse Nullable(Float64),
      mae Nullable(Float64),
      evaluated_at DateTime64(3, 'UTC')
    ) ENGINE = ReplacingMergeTree(evaluated_at)
    ORDER BY (model, version, serving_role, window_start)`,
    // ---- business and operations views (read with FINAL underneath: a redelivery never counts twice) ----
    `CREATE OR REPLACE VIEW ${database}.prediction_volume AS
      SELECT model, version, serving_role, toStartOfMinute(timestamp) AS minute,
        count() AS predictions,
        quantile(0.5)(latency_ms) AS latency_p50_ms,
        quantile(0.95)(latency_ms) AS latency_p95_ms,
        quantile(0.99)(latency_ms) AS latency_p99_ms,
        countIf(length(missing_features) > 0) / count() AS imputed_share
      FROM ${t(MonitorTables.predictions)} FINAL
      GROUP BY model, version, serving_role, minute`,
    `CREATE OR REPLACE VIEW ${database}.deployment_stats AS
      SELECT model, toStartOfDay(at) AS day,
        count() AS deployments,
        countIf(outcome = 'succeeded') AS succeeded,
        countIf(outcome = 'failed') AS failed,
        countIf(outcome = 'succeeded') / count() AS success_rate,
        avgIf(warmup_ms, outcome = 'succeeded') AS avg_warmup_ms
      FROM ${t(MonitorTables.deployments)} FINAL
      GROUP BY model, day`,
    `CREATE OR REPLACE VIEW ${database}.data_quality_daily AS
      SELECT dataset, toStartOfDay(window_start) AS day,
        sum(accepted) AS accepted_records, sum(rejected) AS rejected_records, sum(duplicates) AS duplicate_records,
        if(accepted_records + rejected_records > 0, rejected_records / (accepted_records + rejected_records), 0) AS error_rate,
        sumMap(rejected_by_kind) AS rejections_by_kind
      FROM ${t(MonitorTables.dataQuality)} FINAL
      GROUP BY dataset, day`,
    // Drift detected -> the first later successful deployment of a newer version of the model.
    `CREATE OR REPLACE VIEW ${database}.feedback_loop AS
      SELECT d.model AS model, d.version AS drifted_version, d.at AS drift_detected_at,
        minIf(s.at, s.at > d.at AND s.version > d.version) AS new_version_serving_at,
        argMinIf(s.version, s.at, s.at > d.at AND s.version > d.version) AS new_version,
        if(new_version_serving_at > d.at, dateDiff('millisecond', d.at, new_version_serving_at) / 1000, NULL) AS loop_seconds
      FROM (
        SELECT model, assumeNotNull(version) AS version, min(at) AS at
        FROM ${t(MonitorTables.registryEvents)} FINAL
        WHERE kind = 'drift_detected' GROUP BY model, version
      ) AS d
      LEFT JOIN (
        SELECT model, version, at FROM ${t(MonitorTables.deployments)} FINAL WHERE outcome = 'succeeded'
      ) AS s ON s.model = d.model
      GROUP BY d.model, d.version, d.at`,
    // Cost proxy and resource use per model, version and minute, from the process samples on the prediction log
    // (resources of mlops.prediction.logged.v1). A process's CPU in a minute is the growth of its cumulative
    // counter since its previous minute (the growth within the minute for its first; the value itself after a
    // restart reset it), shared between the versions it served by their predictions that minute.
    `CREATE OR REPLACE VIEW ${database}.${RESOURCE_USE_VIEW} AS
      WITH samples AS (
        SELECT model, version, instance_id, toStartOfMinute(timestamp) AS minute, count() AS predictions,
          max(process_cpu_seconds) AS cpu_max, min(process_cpu_seconds) AS cpu_min, max(process_rss_bytes) AS rss_max
        FROM ${t(MonitorTables.predictions)} FINAL
        WHERE instance_id != '' AND process_cpu_seconds IS NOT NULL
        GROUP BY model, version, instance_id, minute
      ),
      instance_minutes AS (
        SELECT instance_id, minute, sum(predictions) AS instance_predictions,
          max(cpu_max) AS cpu_end, min(cpu_min) AS cpu_start
        FROM samples GROUP BY instance_id, minute
      ),
      instance_cpu AS (
        SELECT instance_id, minute, instance_predictions,
          lagInFrame(cpu_end, 1, cpu_start) OVER (PARTITION BY instance_id ORDER BY minute ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS previous_end,
          if(cpu_end >= previous_end, cpu_end - previous_end, cpu_end) AS cpu_seconds
        FROM instance_minutes
      )
      SELECT s.model AS model, s.version AS version, s.minute AS minute,
        sum(s.predictions) AS predictions,
        sum(c.cpu_seconds * s.predictions / c.instance_predictions) AS cpu_seconds,
        1000 * cpu_seconds / predictions AS cpu_seconds_per_1000,
        max(s.rss_max) AS max_rss_bytes,
        uniqExact(s.instance_id) AS instances
      FROM samples AS s
      INNER JOIN instance_cpu AS c ON c.instance_id = s.instance_id AND c.minute = s.minute
      GROUP BY s.model, s.version, s.minute`,
    `CREATE OR REPLACE VIEW ${database}.model_uptime AS
      SELECT model, version, min(at) AS first_serving_at, max(at) AS last_deployed_at, count() AS replicas_deployed
      FROM ${t(MonitorTables.deployments)} FINAL
      WHERE outcome = 'succeeded'
      GROUP BY model, version`,
  ];
}

/** Cost proxy (CPU seconds per 1,000 predictions) and memory per model, version and minute. */
export const RESOURCE_USE_VIEW = 'resource_use';

/** What kept the bins before the binner: a view summing at insert, into an AggregatingMergeTree (dropped at start). */
const LEGACY_PREDICTION_BINS_VIEW = 'prediction_bins_mv';
const LEGACY_PREDICTION_BINS = 'prediction_bins';

/**
 * Histogram rows of the predictions of some minutes, per (model, version, minute, feature, bin or category): what
 * the drift of a time window reads instead of the raw rows. Made from the deduplicated rows (FINAL: a redelivered
 * prediction counts once). Numeric values are binned against the edges of the version's reference exactly as the
 * raw drift SQL bins them (1 + the inner edges at or under the value), so both give the same histograms; the score
 * as `$prediction`; categorical values are kept by category (the reference's buckets are chosen at read time).
 * One `""` row per prediction counts the window and records whether the version's reference was known when the
 * minute was binned (bin 1) or not (bin 0: its numeric values were not binned, and the drift of that window is
 * read from the raw rows). `where` picks the predictions (of whole minutes: a minute's binning replaces the last).
 */
export function predictionBinsSelect(database: string, where: string): string {
  assertDatabaseName(database);
  const edges = `'${database}.${REFERENCE_EDGES}'`;
  // One row per value (kind 0: the prediction itself, 1: numeric, 2: categorical); the edges come from the
  // in-memory Join table by key (no lambda captures a per-row map: that would copy it per element).
  return `SELECT model, version, minute, feature,
        toUInt32(multiIf(kind = 0, joinGet(${edges}, 'known', model, version, ''),
                         kind = 1, 1 + arrayCount(e -> value >= e, joinGet(${edges}, 'inner_edges', model, version, feature)),
                         0)) AS bin,
        category, count() AS predictions, anyLast(alias) AS alias, now64(6) AS computed_at
      FROM (
        SELECT p.model AS model, p.version AS version, toStartOfMinute(p.timestamp) AS minute, p.alias AS alias,
          item.1 AS kind, item.2 AS feature, item.3 AS value, item.4 AS category
        FROM ${database}.${MonitorTables.predictions} AS p FINAL
        ARRAY JOIN arrayConcat(
          [tuple(toUInt8(0), '', toFloat64(0), '')],
          arrayMap((f, v) -> tuple(toUInt8(1), f, v, ''), mapKeys(p.num_features), mapValues(p.num_features)),
          [tuple(toUInt8(1), '${PREDICTION_FEATURE}', p.score, '')],
          arrayMap((f, c) -> tuple(toUInt8(2), f, toFloat64(0), c), mapKeys(p.cat_features), mapValues(p.cat_features))
        ) AS item
        WHERE ${where}
      )
      WHERE kind != 1 OR joinGet(${edges}, 'known', model, version, feature) = 1
      GROUP BY model, version, minute, feature, bin, category`;
}

/**
 * The rows of `prediction_minute_bins` a read uses: of each minute, its latest binning only (an earlier binning of
 * the minute may have bins the latest has not, e.g. `""` bin 0 from before the reference was known).
 */
export function latestBinsWhere(database: string, minuteRange: string): string {
  assertDatabaseName(database);
  return `model = {model:String} AND version = {version:UInt32} AND ${minuteRange}
      AND (minute, computed_at) IN (
        SELECT minute, max(computed_at) FROM ${database}.${MonitorTables.predictionBins}
        WHERE model = {model:String} AND version = {version:UInt32} AND ${minuteRange}
        GROUP BY minute)`;
}

/** The Join table holding the versions' inner bin edges (see referenceEdgesSelect). */
export const REFERENCE_EDGES = 'reference_edges';

/** Rows of `reference_edges` from reference rows: a "" row per row (the version is known), the inner edges of numeric ones. */
export function referenceEdgesSelect(database: string, final: boolean, where = '1'): string {
  return `SELECT model, version, key_feature AS feature, toUInt8(1) AS known, key_edges AS inner_edges FROM (
        SELECT model, version, item.1 AS key_feature, item.2 AS key_edges
        FROM ${database}.${MonitorTables.references}${final ? ' FINAL' : ''}
        ARRAY JOIN if(kind = 'numeric',
          [tuple('', CAST([], 'Array(Float64)')), tuple(feature, arrayPopFront(arrayPopBack(edges)))],
          [tuple('', CAST([], 'Array(Float64)'))]) AS item
        WHERE ${where}
      )`;
}

/** The tables whose rows the binner finds by insert number. */
const BLOCK_NUMBERED: readonly MonitorTable[] = [MonitorTables.predictions, MonitorTables.references];

/**
 * Creates what is missing. Tables made before the binner get their block numbers kept per row (a settings change,
 * no rewrite); their predictions are binned by the binner's first pass (nothing binned yet).
 */
export async function createMonitorTables(clickhouse: ClickHouseClient, database: string): Promise<void> {
  assertDatabaseName(database);
  for (const query of monitorTableDdl(database)) await clickhouse.command({ query });
  // Every row keeps the number of the insert that wrote it (_block_number): what the binner has not binned yet.
  const tables = await clickhouse.query({
    query: `SELECT name FROM system.tables
            WHERE database = {database:String} AND name IN {numbered:Array(String)}
              AND NOT create_table_query LIKE '%enable_block_number_column = 1%'`,
    format: 'JSONEachRow',
    query_params: { database, numbered: BLOCK_NUMBERED },
  });
  for (const { name } of await tables.json<{ name: string }>())
    await clickhouse.command({
      query: `ALTER TABLE ${database}.${name} MODIFY SETTING enable_block_number_column = 1`,
    });
}

export function assertDatabaseName(database: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) throw new Error(`invalid ClickHouse database name "${database}"`);
}

/** 2025-03-10T00:00:00.000Z -> '2025-03-10 00:00:00.000' (read as UTC by DateTime64(3, 'UTC')). */
export function chTimeOf(time: Date | string | number): string {
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) throw new Error(`invalid time "${String(time)}"`);
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

/** '2025-03-10 00:00:00.000' (UTC) -> 2025-03-10T00:00:00.000Z */
export function fromClickHouseTime(time: string): string {
  return new Date(`${time.replace(' ', 'T')}Z`).toISOString();
}
