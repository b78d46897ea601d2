import { type FeatureView, type Scalar, featuresFromInputs } from '../domain';
import { LABEL_ROWS_TABLE, SOURCE_RECORDS_TABLE, assertDatabaseName, toClickHouseTime } from './offline-tables';
import type { PointInTimeRow } from './point-in-time';

/**
 * When a record counts for a label. `as-known` (default): only once it was known (its known_at: arrival, or the
 * earlier knownAt upstream gave) at or before the label time. `event-time` (Feast's): by event time alone, as if
 * every record had been known when it happened.
 */
export type KnownAtSemantics = 'as-known' | 'event-time';

export interface TrainingSetRequest {
  view: FeatureView;
  labels: { dataset: string; field: string };
  /** Label event times: start inclusive, end exclusive (RFC 3339). */
  timeRange: { start: string; end: string };
  /** Narrows the view's TTL (never widens it). */
  featureTtlSeconds?: number;
  semantics?: KnownAtSemantics;
}

/** One aggregate feature as the query computes it: column `agg_<index>`. */
interface AggregateColumn {
  readonly name: string;
  readonly valueColumn: string;
  readonly function: 'count' | 'sum' | 'mean' | 'min' | 'max';
  readonly windowMs: number;
}

/** One training row as ClickHouse returns it: the label, the record in force, each aggregate (agg_<i>). */
export interface TrainingSetQueryRow {
  label_id: string;
  entity_id: string;
  label_time_ms: string;
  label_json: string;
  /** 1 when the entity had a record known at the label time within the lookback (TTL or longest window). */
  matched: number | string | null;
  /** 1 when a record known at the label time has an event time within the TTL: the rf_<i> are its fields. */
  fresh: number | string | null;
  /** Row field i (view.rowFields) of that record, as raw JSON text ('' when absent). */
  [field: `rf_${number}`]: string | null;
  [aggregate: `agg_${number}`]: number | string | null;
}

export interface TrainingSetQuery {
  query: string;
  query_params: Record<string, string | number>;
  aggregates: readonly AggregateColumn[];
  ttlMs: number;
}

/** The TTL in force: the view's, narrowed by the request's when that is shorter. */
export function effectiveTtlMs(view: Pick<FeatureView, 'ttlMs'>, featureTtlSeconds?: number): number {
  if (featureTtlSeconds === undefined) return view.ttlMs;
  if (!Number.isInteger(featureTtlSeconds) || featureTtlSeconds < 1)
    throw new Error(`featureTtlSeconds must be a positive integer, got ${featureTtlSeconds}`);
  return Math.min(view.ttlMs, featureTtlSeconds * 1000);
}

/**
 * A record's rank as one UInt256 that orders like the tuple (event time, known time, partition, offset): times are
 * epoch ms shifted by 2^44 (every DateTime64(3) from 1900 to 2299 becomes a 45-bit positive number), then packed
 * event time | known time | partition | offset. One wide integer compares much faster than a tuple in the window.
 */
const RANK = `bitShiftLeft(toUInt256(et + 17592186044416), 160) + bitShiftLeft(toUInt256(kt + 17592186044416), 96)
           + bitShiftLeft(toUInt256(source_partition), 64) + toUInt256(source_offset)`;

/** The event time (epoch ms) of the record whose rank is l.best_rank. */
const EVENT_TIME_OF_RANK = '(toInt64(bitShiftRight(l.best_rank, 160)) - 17592186044416)';

/**
 * The raw JSON text of a top-level field of `record` ('' when absent). A record as the offline store writes it
 * (JSON.stringify: no whitespace outside strings) with no backslash, bracket or nested object has its field at the
 * first `"name":`, which simpleJSONExtractRaw finds without parsing the document (several times faster); any other
 * record is parsed (JSONExtractRaw). Numbers may come back in another spelling (1.50 for 1.5): equal once parsed.
 */
function rawField(record: string, param: string): string {
  return `if(${flatJson(record)}, simpleJSONExtractRaw(${record}, {${param}:String}), JSONExtractRaw(${record}, {${param}:String}))`;
}

/** Whether a JSON object is flat and compact: no backslash, bracket, whitespace or nested object. */
function flatJson(record: string): string {
  return `NOT (multiSearchAny(${record}, ['\\\\', '[', ' ', '\\t', '\\n', '\\r']) OR position(${record}, '{', 2) > 0)`;
}

/** The value of raw JSON text when it is a number, else NULL. */
function numberOf(raw: string): string {
  return `if(position('-0123456789', substring(${raw}, 1, 1)) > 0, toFloat64OrNull(${raw}), NULL)`;
}

/**
 * The exact training-set query, over the source records (every validated record with its arrival and known-at
 * time), never over minute buckets. For each label (entity, label time T) it considers the entity's records with
 *   event_time <= T  AND  known <= T
 * where `known` is known_at (as-known) or event_time (event-time semantics), and computes:
 * - the record in force: the greatest (event_time, known, partition, offset) among those, used when its event time
 *   is within the TTL (event_time > T - TTL). Both conditions are one: ready = max(event_time, known) <= T. Records
 *   and labels go through ONE window together, per entity in the order of (ready or label time, records before
 *   labels at equal times): the running max of the rank (one UInt256 per record, 0 for labels) and the record of
 *   that rank (argMax), read on each label's row, are the record in force at T. No join of labels with records and
 *   no second pass over the records (it was a running max over the records then an ASOF JOIN of the labels). The
 *   record travels whole (one string) and the fields its row-level features read are extracted from it afterwards:
 *   once per label, not once per record.
 * - each windowed aggregate over the numeric values of its field with event_time in (T - window, T], known <= T:
 *   labels and records meet on (entity, time bucket) with buckets as long as the longest window, a label looking in
 *   its own bucket and the one before, which hold every record of every window; the exact conditions then filter.
 *   They meet on a 64-bit hash of (entity, bucket), the entities compared after: an integer join key.
 * A record delivered twice (same record_id) counts once: its first arrival (created_at, partition, offset). Without
 * sorting every record by its id: only records whose id hash occurs twice in the table are candidates (a superset
 * of the duplicates, found from the record_id column alone), and of those few rows the first arrival of each id is
 * kept, each event's writes deduplicated as FINAL does (its latest created_at) so that it names a surviving row.
 * The source records are read with FINAL once (MATERIALIZED, each aggregated field extracted once, by
 * simpleJSONExtractRaw when the record is flat: see rawField) for both uses; so are the labels, numbered (an integer
 * per label for the joins). An engine without materialized CTEs (ClickHouse 24.8) reads them once per use and joins
 * labels on their id: the same rows.
 * Labels whose entity has no record known within the lookback (max(TTL, longest window)) get nulls (no
 * join_use_nulls: it made the aggregation several times slower; a best rank of 0 or a `w_found` of 0 says so). Transforms
 * and expressions are then computed in Node from these exact inputs (featuresFromInputs).
 */
export function trainingSetQuery(
  database: string,
  request: TrainingSetRequest,
  options: { materializedCte?: boolean } = {},
): TrainingSetQuery {
  // Materialized CTEs (ClickHouse 25.x) compute `labels` and `records` once; older servers (24.8) read them several
  // times, with the same answer.
  const materialized = options.materializedCte ?? true;
  const cte = materialized ? 'AS MATERIALIZED' : 'AS';
  assertDatabaseName(database);
  if (!(Date.parse(request.timeRange.start) < Date.parse(request.timeRange.end)))
    throw new Error('timeRange.start must be before timeRange.end');
  const { view } = request;
  const ttlMs = effectiveTtlMs(view, request.featureTtlSeconds);
  const semantics = request.semantics ?? 'as-known';
  const fields = [...new Set(view.series.map((series) => series.field))];
  const valueColumnOf = new Map(fields.map((field, i) => [field, `v_${i}`]));
  const aggregates: AggregateColumn[] = view.features.flatMap((feature) =>
    feature.kind === 'aggregate'
      ? [
          {
            name: feature.name,
            valueColumn: valueColumnOf.get(feature.aggregation.field)!,
            function: feature.aggregation.function,
            windowMs: feature.aggregation.windowMs,
          },
        ]
      : [],
  );
  const longestWindowMs = Math.max(0, ...aggregates.map((a) => a.windowMs));
  const lookbackMs = Math.max(ttlMs, longestWindowMs);
  const params: Record<string, string | number> = {
    dataset: request.labels.dataset,
    labelField: request.labels.field,
    source: view.source.dataset,
    start: toClickHouseTime(request.timeRange.start),
    end: toClickHouseTime(request.timeRange.end),
    ttlMs,
    lookbackMs,
    bucketMs: Math.max(1, longestWindowMs),
  };
  fields.forEach((field, i) => (params[`f_${i}`] = field));
  view.rowFields.forEach((field, i) => (params[`r_${i}`] = field));
  aggregates.forEach((a, i) => (params[`w_${i}`] = a.windowMs));

  const known = semantics === 'event-time' ? 'event_time' : 'known_at';
  // The numeric value of each aggregated field, read from every record.
  const valueColumns = fields
    .map((_, i) => `,\n           ${numberOf(rawField('record', `f_${i}`))} AS v_${i}`)
    .join('');
  // The record in force travels through the ASOF join whole (one string); the fields its row-level features read are
  // extracted after it, once per label instead of once per record.
  const rowFieldOutputs = view.rowFields
    .map((_, i) => `,\n       if(l.best_rank > 0, ${rawField('l.best_record', `r_${i}`)}, '') AS rf_${i}`)
    .join('');
  const usedValueColumns = [...new Set(aggregates.map((a) => a.valueColumn))];
  const aggregateColumns = aggregates
    .map((a, i) => {
      const inWindow = `r.et > l.lt - {w_${i}:Int64} AND r.${a.valueColumn} IS NOT NULL`;
      const count = `countIf(${inWindow})`;
      const value =
        a.function === 'count'
          ? count
          : a.function === 'sum'
            ? `sumIf(assumeNotNull(r.${a.valueColumn}), ${inWindow})`
            : `if(${count} = 0, NULL, ${a.function === 'mean' ? 'avgIf' : `${a.function}If`}(assumeNotNull(r.${a.valueColumn}), ${inWindow}))`;
      return `,\n           ${value} AS a_${i}`;
    })
    .join('');
  // Floor division (exact for times before 1970 too): the bucket of a time.
  const bucketOf = (ms: string) => `intDiv(${ms} - positiveModulo(${ms}, {bucketMs:Int64}), {bucketMs:Int64})`;
  // Labels are numbered once when materialized; read twice otherwise, they are joined on their id.
  const labelKey = materialized ? 'rowNumberInAllBlocks()' : 'label_id';
  const windowed =
    aggregates.length === 0
      ? ''
      : `,
  windowed AS (
    SELECT l.li AS w_li, 1 AS w_found${aggregateColumns}
    FROM (
      SELECT entity_id, et, kt${usedValueColumns.map((c) => `, ${c}`).join('')}, cityHash64(entity_id, ${bucketOf('et')}) AS bucket
      FROM records
      WHERE et > toUnixTimestamp64Milli({start:DateTime64(3, 'UTC')}) - {bucketMs:Int64}
    ) AS r
    INNER JOIN (
      SELECT li, entity_id, lt, cityHash64(entity_id, arrayJoin([${bucketOf('lt')}, ${bucketOf('lt')} - 1])) AS bucket
      FROM labels
    ) AS l ON r.bucket = l.bucket
    WHERE r.entity_id = l.entity_id AND r.et <= l.lt AND r.kt <= l.lt AND r.et > l.lt - {bucketMs:Int64}
    GROUP BY l.li
  )`;
  const aggregateOutputs = aggregates
    .map((a, i) =>
      a.function === 'count' || a.function === 'sum'
        ? `,\n       if(w.w_found = 1, w.a_${i}, 0) AS agg_${i}`
        : `,\n       if(w.w_found = 1, w.a_${i}, NULL) AS agg_${i}`,
    )
    .join('');
  const sourceFilter = `dataset = {source:String}
      AND event_time < {end:DateTime64(3, 'UTC')}
      AND event_time > {start:DateTime64(3, 'UTC')} - toIntervalMillisecond({lookbackMs:UInt64})`;
  const arrival = '(created_at, source_partition, source_offset, source_event_id)';
  const query = `
WITH
  labels ${cte} (
    SELECT ${labelKey} AS li, label_id, entity_id, lt, label_json
    FROM (
      SELECT source_event_id AS label_id, entity_id, toUnixTimestamp64Milli(event_time) AS lt,
             JSONExtractRaw(record, {labelField:String}) AS label_json
      FROM ${database}.${LABEL_ROWS_TABLE}
      WHERE dataset = {dataset:String}
        AND event_time >= {start:DateTime64(3, 'UTC')} AND event_time < {end:DateTime64(3, 'UTC')}
        AND label_json NOT IN ('', 'null')
      ORDER BY label_id, created_at
      LIMIT 1 BY label_id
    )
  ),
  repeated ${cte} (
    SELECT cityHash64(record_id) AS id_hash FROM ${database}.${SOURCE_RECORDS_TABLE}
    WHERE ${sourceFilter}
    GROUP BY id_hash HAVING count() > 1
  ),
  first_arrivals ${cte} (
    SELECT id AS record_id, min(arrival) AS arrival
    FROM (
      SELECT any(record_id) AS id,
             (max(created_at), argMax(source_partition, created_at), argMax(source_offset, created_at), source_event_id) AS arrival
      FROM ${database}.${SOURCE_RECORDS_TABLE}
      WHERE ${sourceFilter} AND cityHash64(record_id) IN repeated
      GROUP BY entity_id, event_time, source_event_id
    )
    GROUP BY id
  ),
  records ${cte} (
    SELECT entity_id, toUnixTimestamp64Milli(event_time) AS et, toUnixTimestamp64Milli(${known}) AS kt,
           greatest(et, kt) AS ready, source_partition, source_offset, record${valueColumns}
    FROM ${database}.${SOURCE_RECORDS_TABLE} FINAL
    WHERE ${sourceFilter}
      AND kt < toUnixTimestamp64Milli({end:DateTime64(3, 'UTC')})
      AND (cityHash64(record_id) NOT IN repeated OR (record_id, ${arrival}) IN first_arrivals)
  ),
  in_force AS (
    SELECT li, label_id, entity_id, t AS lt, label_json, best_rank, best_record
    FROM (
      SELECT is_label, li, label_id, entity_id, t, label_json,
             max(rank) OVER running AS best_rank, argMax(record, rank) OVER running AS best_record
      FROM (
        SELECT entity_id, ready AS t, 0 AS is_label, ${RANK} AS rank, record,
               ${materialized ? 'toUInt64(0)' : "''"} AS li, '' AS label_id, '' AS label_json
        FROM records
        UNION ALL
        SELECT entity_id, lt AS t, 1 AS is_label, toUInt256(0) AS rank, '' AS record, li, label_id, label_json
        FROM labels
      )
      WINDOW running AS (PARTITION BY entity_id ORDER BY t, is_label ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    )
    WHERE is_label = 1
  )${windowed}
SELECT l.label_id AS label_id,
       l.entity_id AS entity_id,
       l.lt AS label_time_ms,
       l.label_json AS label_json,
       l.best_rank > 0 AND ${EVENT_TIME_OF_RANK} > l.lt - {lookbackMs:Int64} AS matched,
       l.best_rank > 0 AND ${EVENT_TIME_OF_RANK} > l.lt - {ttlMs:Int64} AS fresh${rowFieldOutputs}${aggregateOutputs}
FROM in_force AS l${aggregates.length === 0 ? '' : '\nLEFT JOIN windowed AS w ON w.w_li = l.li'}
ORDER BY entity_id, label_time_ms, label_id${materialized ? '\nSETTINGS enable_materialized_cte = 1' : ''}`;
  return { query, query_params: params, aggregates, ttlMs };
}

/**
 * A query row as a point-in-time row: the view's features computed from the exact inputs (null everywhere when
 * the entity had no record known in the lookback).
 */
export function trainingRowOf(view: FeatureView, query: TrainingSetQuery, row: TrainingSetQueryRow): PointInTimeRow {
  const matched = row.matched !== null && Number(row.matched) === 1;
  let features: string | null = null;
  if (matched) {
    const fresh = row.fresh !== null && Number(row.fresh) === 1;
    const fields: Record<string, Scalar> = {};
    view.rowFields.forEach((field, i) => {
      const raw = fresh ? row[`rf_${i}`] : null;
      const value: unknown = raw === null || raw === undefined || raw === '' ? null : JSON.parse(raw);
      fields[field] = value !== null && typeof value === 'object' ? null : (value as Scalar);
    });
    const aggregates: Record<string, number | null> = {};
    query.aggregates.forEach((a, i) => {
      const value = row[`agg_${i}`];
      aggregates[a.name] = value === null || value === undefined ? null : Number(value);
    });
    features = JSON.stringify(featuresFromInputs(view, fields, aggregates));
  }
  return {
    label_id: row.label_id,
    entity_id: row.entity_id,
    label_time_ms: row.label_time_ms,
    label_json: row.label_json,
    features,
  };
}
