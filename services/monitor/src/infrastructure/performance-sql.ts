import { MonitorTables, assertDatabaseName } from './clickhouse-tables';

/**
 * Live performance per window of prediction time and serving role (the arm), computed in ClickHouse: every
 * prediction of the version takes the first label of its entity in the model's label dataset whose event time is
 * after the prediction and at most `horizonMs` later (ASOF join); a window is complete once its end plus the
 * horizon has passed (`until`), so late labels had their chance. A label record carrying the prediction's request
 * id in its `requestIdField` (a string field; '' turns this off) is joined by that id instead, whatever its time
 * (the latest such label counts). Binary classification decides at score >= 0.5.
 * Parameters: model, version, dataset, field, requestIdField, until, fromKey, windowMs, horizonMs.
 */
export function performanceSql(database: string): string {
  assertDatabaseName(database);
  return `
WITH
  preds AS (
    SELECT intDiv(toUnixTimestamp64Milli(timestamp), {windowMs:UInt64}) AS window_key, request_id, entity_id, timestamp, score, serving_role, alias
    FROM ${database}.${MonitorTables.predictions} FINAL
    WHERE model = {model:String} AND version = {version:UInt32} AND timestamp < {until:DateTime64(3, 'UTC')}
  ),
  labs AS (
    SELECT entity_id, event_time, num_values[{field:String}] AS label
    FROM ${database}.${MonitorTables.labels} FINAL
    WHERE dataset = {dataset:String} AND mapContains(num_values, {field:String})
  ),
  labs_by_request AS (
    SELECT str_values[{requestIdField:String}] AS request_id, argMax(num_values[{field:String}], event_time) AS label
    FROM ${database}.${MonitorTables.labels} FINAL
    WHERE dataset = {dataset:String} AND {requestIdField:String} != '' AND mapContains(num_values, {field:String})
      AND mapContains(str_values, {requestIdField:String})
    GROUP BY request_id
  ),
  joined AS (
    SELECT p.window_key AS window_key, p.serving_role AS serving_role, p.alias AS alias, p.score AS score,
      r.request_id != '' AS by_request,
      if(by_request, r.label, l.label) AS label,
      by_request OR (l.entity_id != ''
        AND toUnixTimestamp64Milli(l.event_time) - toUnixTimestamp64Milli(p.timestamp) <= {horizonMs:UInt64}) AS labeled
    FROM preds AS p
    ASOF LEFT JOIN labs AS l ON p.entity_id = l.entity_id AND p.timestamp < l.event_time
    LEFT JOIN labs_by_request AS r ON r.request_id = p.request_id
  )
SELECT window_key, serving_role, anyLast(alias) AS alias,
  formatDateTime(fromUnixTimestamp64Milli(toInt64(window_key * {windowMs:UInt64}), 'UTC'), '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC') AS window_start,
  formatDateTime(fromUnixTimestamp64Milli(toInt64((window_key + 1) * {windowMs:UInt64}), 'UTC'), '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC') AS window_end,
  count() AS predictions,
  countIf(labeled) AS labeled_count,
  countIf(labeled AND score >= 0.5 AND label = 1) AS tp,
  countIf(labeled AND score >= 0.5 AND label = 0) AS fp,
  countIf(labeled AND score < 0.5 AND label = 0) AS tn,
  countIf(labeled AND score < 0.5 AND label = 1) AS fn,
  if(labeled_count > 0, (tp + tn) / labeled_count, NULL) AS accuracy,
  if(tp + fp > 0, tp / (tp + fp), NULL) AS precision,
  if(tp + fn > 0, tp / (tp + fn), NULL) AS recall,
  if(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), NULL) AS f1,
  if(tp + fn > 0 AND tn + fp > 0, arrayAUC(groupArrayIf(score, labeled), groupArrayIf(label, labeled)), NULL) AS auc,
  if(labeled_count > 0, sqrt(avgIf((score - label) * (score - label), labeled)), NULL) AS rmse,
  if(labeled_count > 0, avgIf(abs(score - label), labeled), NULL) AS mae
FROM joined
WHERE window_key >= {fromKey:UInt64}
  AND (window_key + 1) * {windowMs:UInt64} + {horizonMs:UInt64} <= toUnixTimestamp64Milli({until:DateTime64(3, 'UTC')})
GROUP BY window_key, serving_role
ORDER BY window_key, serving_role`;
}

export interface PerformanceSqlRow {
  window_key: number | string;
  serving_role: string;
  alias: string;
  window_start: string;
  window_end: string;
  predictions: number | string;
  labeled_count: number | string;
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  auc: number | null;
  rmse: number | null;
  mae: number | null;
}
