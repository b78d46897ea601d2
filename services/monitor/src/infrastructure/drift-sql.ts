import { PREDICTION_FEATURE, SHARE_FLOOR } from '../domain';
import { MonitorTables, assertDatabaseName, latestBinsWhere } from './clickhouse-tables';

/**
 * Tumbling windows: by prediction time (`seconds`, windows aligned on the Unix epoch) or by count (`size`
 * consecutive predictions of the version in time order, ties broken by event id).
 */
export type WindowSpec =
  { readonly by: 'time'; readonly seconds: number } | { readonly by: 'count'; readonly size: number };

/**
 * The rows of one model version, each with its window key. Time windows: key = floor(ms / window ms).
 * Count windows: key = floor((rank - 1) / size) over every prediction of the version.
 */
function windowedRows(database: string, window: WindowSpec): string {
  const keyExpression =
    window.by === 'time'
      ? `intDiv(toUnixTimestamp64Milli(timestamp), {windowMs:UInt64})`
      : `intDiv(row_number() OVER (ORDER BY timestamp, event_id) - 1, {windowSize:UInt64})`;
  // Time windows read only from the first wanted window on (the sorting key has the time): a pass costs what
  // arrived since the last one. Count windows rank every prediction of the version, so they read them all.
  const since =
    window.by === 'time'
      ? `AND timestamp >= fromUnixTimestamp64Milli(toInt64({fromKey:UInt64} * {windowMs:UInt64}), 'UTC')`
      : '';
  return `
    SELECT ${keyExpression} AS window_key, timestamp, alias, num_features, cat_features, score
    FROM ${database}.${MonitorTables.predictions} FINAL
    WHERE model = {model:String} AND version = {version:UInt32}
      AND timestamp < {until:DateTime64(3, 'UTC')} ${since}`;
}

/**
 * Every drift statistic of every feature (and of the score) per window, computed in ClickHouse from the raw
 * prediction rows: one query that bins the live values against the reference of the version and reduces each
 * histogram pair to its statistics. Parameters: model, version, until (exclusive end of the predictions read),
 * fromKey (first window key wanted), windowMs or windowSize. Only complete windows come back (time: ended by
 * `until`; count: full). The formulas are documented in README.md ("Drift: formulas and binning").
 */
export function driftSql(database: string, window: WindowSpec, layout: ReferenceLayout): string {
  assertDatabaseName(database);
  const inputs = layout.numeric.filter((r) => r.feature !== PREDICTION_FEATURE);
  const score = layout.numeric.find((r) => r.feature === PREDICTION_FEATURE);
  const inputBin =
    inputs.length === 0
      ? '1'
      : `multiIf(${inputs.map((r) => `feature = ${literal(r.feature)}, ${binExpression('value', r.edges)}`).join(', ')}, 0)`;
  const windowBounds =
    window.by === 'time' ? timeWindowBounds : `min_ts AS window_start, max_ts + toIntervalMillisecond(1) AS window_end`;
  const complete = window.by === 'time' ? timeWindowComplete : `rows_in_window = {windowSize:UInt64}`;
  return statisticsSql(
    database,
    `
  rows AS (${windowedRows(database, window)}),
  windows AS (
    SELECT window_key, count() AS rows_in_window, min(timestamp) AS min_ts, max(timestamp) AS max_ts, anyLast(alias) AS alias
    FROM rows GROUP BY window_key
  ),
  complete_windows AS (
    SELECT window_key, rows_in_window, alias, ${windowBounds} FROM windows
    WHERE window_key >= {fromKey:UInt64} AND ${complete}
  ),
  numeric_bins AS (
    -- bin i (1-based) holds edges[i] <= x < edges[i+1]; values under the first edge go to bin 1, at or over the
    -- last inner edge to the last bin (the reference was binned the same way); edges are literals of the version's
    -- reference, so binning is a few comparisons per value and no lookup
    SELECT window_key, feature, toUInt32(${inputBin}) AS bin, count() AS c FROM rows
    ARRAY JOIN mapKeys(num_features) AS feature, mapValues(num_features) AS value
    WHERE window_key >= {fromKey:UInt64} AND ${inList(inputs.map((r) => r.feature))}
    GROUP BY window_key, feature, bin
    ${
      score
        ? `UNION ALL
    SELECT window_key, '${PREDICTION_FEATURE}' AS feature, toUInt32(${binExpression('score', score.edges)}) AS bin, count() AS c
    FROM rows WHERE window_key >= {fromKey:UInt64}
    GROUP BY window_key, feature, bin`
        : ''
    }
  ),
  categorical_values AS (
    SELECT window_key, feature, value, count() AS c FROM rows
    ARRAY JOIN mapKeys(cat_features) AS feature, mapValues(cat_features) AS value
    WHERE window_key >= {fromKey:UInt64} AND ${inList(layout.categorical)}
    GROUP BY window_key, feature, value
  ),`,
  );
}

/**
 * The same statistics for time windows of whole minutes, from the histograms of the binner
 * (`prediction_minute_bins`, see prediction-binner.ts): a window reads its minutes' bins, not its predictions, so the
 * cost follows minutes x features x bins whatever the traffic. The bins are those of the raw query, so the
 * results are the same. Parameters: model, version, until, fromKey, windowMs (a multiple of 60000).
 */
export function binnedDriftSql(database: string, layout: ReferenceLayout): string {
  assertDatabaseName(database);
  return statisticsSql(
    database,
    `
  bins AS (
    SELECT intDiv(toUInt64(toUnixTimestamp(minute)) * 1000, {windowMs:UInt64}) AS window_key, feature, bin, category,
      sum(predictions) AS c, anyLast(alias) AS alias
    FROM ${database}.${MonitorTables.predictionBins}
    WHERE ${latestBinsWhere(database, binnedMinutes)}
    GROUP BY window_key, feature, bin, category
  ),
  windows AS (
    SELECT window_key, sum(c) AS rows_in_window, anyLast(alias) AS alias FROM bins WHERE feature = '' GROUP BY window_key
  ),
  complete_windows AS (
    SELECT window_key, rows_in_window, alias, ${timeWindowBounds} FROM windows
    WHERE window_key >= {fromKey:UInt64} AND ${timeWindowComplete}
  ),
  numeric_bins AS (
    SELECT window_key, feature, bin, c FROM bins
    WHERE bin > 0 AND category = '' AND ${inList(layout.numeric.map((r) => r.feature))}
  ),
  categorical_values AS (
    SELECT window_key, feature, category AS value, c FROM bins WHERE bin = 0 AND ${inList(layout.categorical)}
  ),`,
  );
}

/**
 * How many predictions of the version in [from window, until) were binned while its reference was not known
 * (their numeric values are not in the bins): when any, the binned drift would miss them.
 */
export function unbinnedPredictionsSql(database: string): string {
  assertDatabaseName(database);
  return `SELECT sum(predictions) AS unbinned FROM ${database}.${MonitorTables.predictionBins}
    WHERE feature = '' AND bin = 0 AND ${latestBinsWhere(database, binnedMinutes)}`;
}

/** The minutes of the windows from fromKey on, before until. */
const binnedMinutes = `minute >= fromUnixTimestamp64Milli(toInt64({fromKey:UInt64} * {windowMs:UInt64}), 'UTC')
      AND minute < {until:DateTime64(3, 'UTC')}`;

const timeWindowBounds = `fromUnixTimestamp64Milli(toInt64(window_key * {windowMs:UInt64}), 'UTC') AS window_start,
         fromUnixTimestamp64Milli(toInt64((window_key + 1) * {windowMs:UInt64}), 'UTC') AS window_end`;
const timeWindowComplete = `(window_key + 1) * {windowMs:UInt64} <= toUnixTimestamp64Milli({until:DateTime64(3, 'UTC')})`;

const inList = (names: readonly string[]): string =>
  names.length === 0 ? '0' : `feature IN (${names.map(literal).join(', ')})`;

/**
 * Every statistic per window and feature from `sources`: CTEs defining `complete_windows` (window_key,
 * rows_in_window, alias, window_start, window_end), `numeric_bins` (window_key, feature, bin, c) and
 * `categorical_values` (window_key, feature, value, c).
 */
function statisticsSql(database: string, sources: string): string {
  const refs = `${database}.${MonitorTables.references}`;
  return `
WITH
  (SELECT mapFromArrays(groupArray(feature), groupArray(edges)) FROM ${refs} FINAL
     WHERE model = {model:String} AND version = {version:UInt32} AND kind = 'numeric') AS ref_edges,
  (SELECT mapFromArrays(groupArray(feature), groupArray(counts)) FROM ${refs} FINAL
     WHERE model = {model:String} AND version = {version:UInt32} AND kind = 'numeric') AS ref_num_counts,
  (SELECT mapFromArrays(groupArray(feature), groupArray(categories)) FROM ${refs} FINAL
     WHERE model = {model:String} AND version = {version:UInt32} AND kind = 'categorical') AS ref_categories,
  (SELECT mapFromArrays(groupArray(feature), groupArray(counts)) FROM ${refs} FINAL
     WHERE model = {model:String} AND version = {version:UInt32} AND kind = 'categorical') AS ref_cat_counts,
  ${SHARE_FLOOR} AS floor_share,${sources}
  numeric_hist AS (
    SELECT window_key, feature, sum(c) AS n, groupArray((bin, c)) AS pairs FROM numeric_bins GROUP BY window_key, feature
  ),
  numeric_shares AS (
    SELECT window_key, feature, n,
      ref_num_counts[feature] AS ref_counts,
      ref_edges[feature] AS edges,
      arraySum(ref_counts) AS m,
      arrayMap(i -> toFloat64(arraySum(arrayMap(pc -> if(pc.1 = i, pc.2, 0), pairs))) / n, range(1, length(ref_counts) + 1)) AS p,
      arrayMap(c -> c / m, ref_counts) AS q,
      arrayMap(i -> (edges[i] + edges[i + 1]) / 2, range(1, length(ref_counts) + 1)) AS centers
    FROM numeric_hist
  ),
  numeric_stats AS (
    SELECT window_key, feature, 'numeric' AS kind, n, m,
      arraySum(arrayMap((a, b) -> (greatest(a, floor_share) - greatest(b, floor_share)) * ln(greatest(a, floor_share) / greatest(b, floor_share)), p, q)) AS psi,
      sqrt(greatest(0, 0.5 * arraySum(arrayMap((a, b) -> if(a > 0, a * log2(2 * a / (a + b)), 0), p, q))
                     + 0.5 * arraySum(arrayMap((a, b) -> if(b > 0, b * log2(2 * b / (a + b)), 0), p, q)))) AS js_distance,
      arrayMax(arrayMap((a, b) -> abs(a - b), arrayCumSum(p), arrayCumSum(q))) AS ks_statistic,
      n * m / (n + m) AS ks_effective_n,
      (sqrt(ks_effective_n) + 0.12 + 0.11 / sqrt(ks_effective_n)) * ks_statistic AS ks_lambda,
      if(ks_lambda < 0.2, 1.0,
         least(1.0, greatest(0.0, 2 * arraySum(arrayMap(k -> pow(-1, k - 1) * exp(-2 * k * k * ks_lambda * ks_lambda), range(1, 101)))))) AS ks_p_value,
      arraySum(arrayMap(i -> abs(arrayCumSum(p)[i] - arrayCumSum(q)[i]) * (centers[i + 1] - centers[i]), range(1, length(p)))) AS wasserstein,
      arraySum(arrayMap((c, b) -> c * b, centers, q)) AS ref_mean,
      sqrt(arraySum(arrayMap((c, b) -> b * (c - ref_mean) * (c - ref_mean), centers, q))) AS ref_std,
      if(ref_std > 0, wasserstein / ref_std,
         if(edges[length(edges)] > edges[1], wasserstein / (edges[length(edges)] - edges[1]), 0.0)) AS wasserstein_norm,
      CAST(NULL AS Nullable(Float64)) AS chi_squared,
      CAST(NULL AS Nullable(Float64)) AS chi_squared_p_value,
      CAST(NULL AS Nullable(Int64)) AS df
    FROM numeric_shares WHERE m > 0
  ),
  categorical_hist AS (
    SELECT window_key, feature, sum(c) AS n, groupArray((value, c)) AS pairs FROM categorical_values GROUP BY window_key, feature
  ),
  categorical_shares AS (
    -- the reference categories, then one bucket for every category the reference never saw
    SELECT window_key, feature, n,
      ref_categories[feature] AS categories,
      arrayPushBack(ref_cat_counts[feature], 0) AS ref_counts,
      arraySum(ref_counts) AS m,
      length(ref_counts) AS buckets,
      arrayPushBack(
        arrayMap(cat -> toFloat64(arraySum(arrayMap(pc -> if(pc.1 = cat, pc.2, 0), pairs))), categories),
        toFloat64(arraySum(arrayMap(pc -> if(has(categories, pc.1), 0, pc.2), pairs)))) AS observed,
      arrayMap(o -> o / n, observed) AS p,
      arrayMap(c -> c / m, ref_counts) AS q,
      arrayMap(c -> (c + 0.5) / (m + 0.5 * buckets), ref_counts) AS q_smoothed
    FROM categorical_hist
  ),
  categorical_stats AS (
    SELECT window_key, feature, 'categorical' AS kind, n, m,
      arraySum(arrayMap((a, b) -> (greatest(a, floor_share) - greatest(b, floor_share)) * ln(greatest(a, floor_share) / greatest(b, floor_share)), p, q)) AS psi,
      sqrt(greatest(0, 0.5 * arraySum(arrayMap((a, b) -> if(a > 0, a * log2(2 * a / (a + b)), 0), p, q))
                     + 0.5 * arraySum(arrayMap((a, b) -> if(b > 0, b * log2(2 * b / (a + b)), 0), p, q)))) AS js_distance,
      CAST(NULL AS Nullable(Float64)) AS ks_statistic,
      0.0 AS ks_effective_n,
      0.0 AS ks_lambda,
      CAST(NULL AS Nullable(Float64)) AS ks_p_value,
      0.0 AS wasserstein,
      0.0 AS ref_mean,
      0.0 AS ref_std,
      CAST(NULL AS Nullable(Float64)) AS wasserstein_norm,
      toNullable(arraySum(arrayMap((o, s) -> (o - n * s) * (o - n * s) / (n * s), observed, q_smoothed))) AS chi_squared,
      toNullable(toInt64(buckets - 1)) AS df,
      if(assumeNotNull(df) < 1, toNullable(1.0),
         toNullable(0.5 * erfc(((pow(assumeNotNull(chi_squared) / assumeNotNull(df), 1 / 3) - (1 - 2 / (9 * assumeNotNull(df)))) / sqrt(2 / (9 * assumeNotNull(df)))) / sqrt(2)))) AS chi_squared_p_value
    FROM categorical_shares WHERE m > 0
  )
SELECT w.window_key AS window_key,
  formatDateTime(w.window_start, '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC') AS window_start,
  formatDateTime(w.window_end, '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC') AS window_end,
  w.rows_in_window AS rows_in_window, w.alias AS alias,
  s.feature AS feature, s.kind AS kind, s.n AS sample_size,
  s.psi AS psi, s.js_distance AS js_distance, s.ks_statistic AS ks_statistic, s.ks_p_value AS ks_p_value,
  s.wasserstein_norm AS wasserstein_norm, s.chi_squared AS chi_squared, s.chi_squared_p_value AS chi_squared_p_value, s.df AS degrees_of_freedom,
  s.reference_size AS reference_size
FROM complete_windows AS w
INNER JOIN (
  SELECT window_key, feature, kind, n, psi, js_distance, ks_statistic, ks_p_value, wasserstein_norm, chi_squared, chi_squared_p_value, df, m AS reference_size
  FROM numeric_stats
  UNION ALL
  SELECT window_key, feature, kind, n, psi, js_distance, ks_statistic, ks_p_value, wasserstein_norm, chi_squared, chi_squared_p_value, df, m AS reference_size
  FROM categorical_stats
) AS s ON s.window_key = w.window_key
ORDER BY window_key, feature`;
}

/** The features of a version's reference: numeric ones with their bin edges, categorical ones by name. */
export interface ReferenceLayout {
  readonly numeric: ReadonlyArray<{ feature: string; edges: readonly number[] }>;
  readonly categorical: readonly string[];
}

/** A string literal of ClickHouse SQL (feature names match the contracts' pattern; quoting is belt and braces). */
function literal(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** 1 + the number of inner edges at or under x: the 1-based bin of the trainer's binning. */
function binExpression(x: string, edges: readonly number[]): string {
  const inner = edges.slice(1, -1);
  for (const edge of inner) if (!Number.isFinite(edge)) throw new Error(`bin edge ${edge} is not finite`);
  return ['1', ...inner.map((edge) => `(${x} >= ${edge.toPrecision(17)})`)].join(' + ');
}

/** One row of driftSql. */
export interface DriftSqlRow {
  window_key: string;
  window_start: string;
  window_end: string;
  rows_in_window: string;
  alias: string;
  feature: string;
  kind: 'numeric' | 'categorical';
  sample_size: string;
  psi: number;
  js_distance: number;
  ks_statistic: number | null;
  ks_p_value: number | null;
  wasserstein_norm: number | null;
  chi_squared: number | null;
  chi_squared_p_value: number | null;
  degrees_of_freedom: number | null;
  reference_size: number;
}
