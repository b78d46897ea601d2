import { FEATURE_ROWS_TABLE, LABEL_ROWS_TABLE, assertDatabaseName, toClickHouseTime } from './offline-tables';

export interface PointInTimeRequest {
  featureView: { name: string; version: number };
  labels: { dataset: string; field: string };
  /** Label event times: start inclusive, end exclusive (RFC 3339). */
  timeRange: { start: string; end: string };
  /** Feature rows older than this at label time count as missing; absent means no limit. */
  featureTtlSeconds?: number;
}

/** One training row as ClickHouse returns it: the label and the feature JSON in force at label time (or null). */
export interface PointInTimeRow {
  label_id: string;
  entity_id: string;
  /** Label event time, epoch milliseconds (64-bit integers arrive as strings). */
  label_time_ms: string;
  /** The label value as raw JSON text. */
  label_json: string;
  /** The chosen feature row's JSON object, or null when no row qualifies. */
  features: string | null;
}

export interface PointInTimeQuery {
  query: string;
  query_params: Record<string, string | number>;
}

/**
 * The point-in-time join. For every label (entity, label_time) in the window it takes the feature row with
 *   event_time <= label_time  AND  event_time > label_time - TTL  AND  created_at <= label_time
 * and, among those, the greatest (event_time, created_at, source_event_id): the latest fact, and for two
 * updates of the same moment the one written later. Labels without such a row keep null features.
 *
 * Why not LEFT ASOF JOIN: ASOF accepts exactly one inequality ("ASOF join does not support multiple
 * inequality predicates"), and created_at <= label_time cannot be pushed into the right table because it
 * depends on each label; ASOF also leaves ties on event_time unspecified. So: an INNER equi-join on the
 * entity, the inequalities as a WHERE filter, argMax per label, then a LEFT JOIN back to the labels for the
 * nulls. Non-equi conditions inside JOIN ON are avoided because ClickHouse 24.8 only has them behind
 * allow_experimental_join_condition. Both sides are pre-filtered to the window (and TTL) so the join only
 * sees rows that could qualify.
 */
export function pointInTimeQuery(database: string, request: PointInTimeRequest): PointInTimeQuery {
  assertDatabaseName(database);
  const ttl = request.featureTtlSeconds;
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1))
    throw new Error(`featureTtlSeconds must be a positive integer, got ${ttl}`);
  if (!(Date.parse(request.timeRange.start) < Date.parse(request.timeRange.end)))
    throw new Error('timeRange.start must be before timeRange.end');
  const query = `
WITH
  labels AS (
    SELECT source_event_id AS label_id, entity_id, event_time AS label_time,
           JSONExtractRaw(record, {labelField:String}) AS label_json
    FROM ${database}.${LABEL_ROWS_TABLE}
    WHERE dataset = {dataset:String}
      AND event_time >= {start:DateTime64(3, 'UTC')} AND event_time < {end:DateTime64(3, 'UTC')}
      AND JSONHas(record, {labelField:String})
      AND JSONType(record, {labelField:String}) != 'Null'
    ORDER BY label_id, created_at
    LIMIT 1 BY label_id
  ),
  candidates AS (
    SELECT entity_id, event_time, created_at, features, source_event_id
    FROM ${database}.${FEATURE_ROWS_TABLE} FINAL
    WHERE view_name = {viewName:String} AND view_version = {viewVersion:UInt32}
      AND event_time < {end:DateTime64(3, 'UTC')} AND created_at < {end:DateTime64(3, 'UTC')}${
        ttl === undefined
          ? ''
          : `\n      AND event_time > {start:DateTime64(3, 'UTC')} - toIntervalSecond({ttl:UInt32})`
      }
  ),
  matched AS (
    SELECT l.label_id AS matched_label_id,
           argMax(f.features, (f.event_time, f.created_at, f.source_event_id)) AS matched_features
    FROM labels AS l
    INNER JOIN candidates AS f ON f.entity_id = l.entity_id
    WHERE f.event_time <= l.label_time
      AND f.created_at <= l.label_time${ttl === undefined ? '' : `\n      AND f.event_time > l.label_time - toIntervalSecond({ttl:UInt32})`}
    GROUP BY l.label_id
  )
SELECT l.label_id AS label_id,
       l.entity_id AS entity_id,
       toUnixTimestamp64Milli(l.label_time) AS label_time_ms,
       l.label_json AS label_json,
       m.matched_features AS features
FROM labels AS l
LEFT JOIN matched AS m ON m.matched_label_id = l.label_id
ORDER BY entity_id, label_time_ms, label_id
SETTINGS join_use_nulls = 1`;
  return {
    query,
    query_params: {
      dataset: request.labels.dataset,
      labelField: request.labels.field,
      start: toClickHouseTime(request.timeRange.start),
      end: toClickHouseTime(request.timeRange.end),
      viewName: request.featureView.name,
      viewVersion: request.featureView.version,
      ...(ttl === undefined ? {} : { ttl }),
    },
  };
}
