import type {
  DataQualityV1,
  DataValidatedV1,
  DeploymentFailedV1,
  DeploymentSucceededV1,
  FeaturesMaterializedV1,
  ModelRegisteredV1,
  PredictionLoggedV1,
} from '@mlops/contracts';

/** The score's pseudo-feature in reference and drift rows; the contracts' feature names cannot contain "$". */
export const PREDICTION_FEATURE = '$prediction';

type Scalar = number | string | boolean | null;

/** Numbers (booleans as 0/1) and strings of a record, apart: ClickHouse Map columns; nulls are left out. */
export function splitValues(values: Readonly<Record<string, Scalar>>): {
  numeric: Record<string, number>;
  strings: Record<string, string>;
} {
  const numeric: Record<string, number> = {};
  const strings: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    if (typeof value === 'number' && Number.isFinite(value)) numeric[name] = value;
    else if (typeof value === 'boolean') numeric[name] = value ? 1 : 0;
    else if (typeof value === 'string') strings[name] = value;
  }
  return { numeric, strings };
}

/** '2025-03-10T00:00:00Z' -> '2025-03-10 00:00:00.000' (UTC), the text DateTime64(3, 'UTC') reads. */
export function chTime(time: string | Date): string {
  return new Date(time).toISOString().replace('T', ' ').replace('Z', '');
}

export function predictionRow(eventId: string, loggedAt: string, data: PredictionLoggedV1): Record<string, unknown> {
  const { numeric, strings } = splitValues(data.features);
  return {
    event_id: eventId,
    request_id: data.requestId,
    model: data.model,
    alias: data.alias,
    version: data.version,
    serving_role: data.servingRole,
    channel: data.channel,
    entity_id: data.entityId,
    timestamp: chTime(data.timestamp),
    score: data.output.value,
    output_label: data.output.label === undefined ? null : String(data.output.label),
    num_features: numeric,
    cat_features: strings,
    missing_features: data.missingFeatures,
    latency_ms: data.latencyMs,
    logged_at: chTime(loggedAt),
    instance_id: data.resources?.instanceId ?? '',
    process_cpu_seconds: data.resources?.cpuSeconds ?? null,
    process_rss_bytes: data.resources?.rssBytes ?? null,
  };
}

export function featureStreamRow(eventId: string, data: FeaturesMaterializedV1): Record<string, unknown> {
  const { numeric, strings } = splitValues(data.features);
  return {
    event_id: eventId,
    view_name: data.featureView.name,
    view_version: data.featureView.version,
    entity_id: data.entityId,
    event_time: chTime(data.eventTime),
    materialized_at: chTime(data.materializedAt),
    num_features: numeric,
    cat_features: strings,
  };
}

export function labelRow(eventId: string, data: DataValidatedV1): Record<string, unknown> {
  const { numeric, strings } = splitValues(data.record);
  return {
    event_id: eventId,
    dataset: data.dataset,
    dataset_version: data.datasetVersion,
    entity_id: data.entityId,
    event_time: chTime(data.eventTime),
    validated_at: chTime(data.validatedAt),
    record: JSON.stringify(data.record),
    num_values: numeric,
    str_values: strings,
  };
}

export function dataQualityRow(eventId: string, data: DataQualityV1): Record<string, unknown> {
  return {
    event_id: eventId,
    dataset: data.dataset,
    window_start: chTime(data.window.start),
    window_end: chTime(data.window.end),
    accepted: data.accepted,
    rejected: data.rejected,
    duplicates: data.duplicates ?? 0,
    rejected_by_kind: data.rejectedByKind,
    null_rates: data.nullRates,
  };
}

export function deploymentRow(
  eventId: string,
  outcome: { succeeded: DeploymentSucceededV1 } | { failed: DeploymentFailedV1 },
): Record<string, unknown> {
  if ('succeeded' in outcome) {
    const d = outcome.succeeded;
    return {
      event_id: eventId,
      model: d.model,
      alias: d.alias,
      version: d.version,
      outcome: 'succeeded',
      strategy: d.strategy,
      instance_id: d.instanceId,
      previous_version: d.previousVersion,
      stage: null,
      error_code: null,
      warmup_ms: d.warmupMs,
      at: chTime(d.servingSince),
    };
  }
  const d = outcome.failed;
  return {
    event_id: eventId,
    model: d.model,
    alias: d.alias,
    version: d.version,
    outcome: 'failed',
    strategy: d.strategy,
    instance_id: d.instanceId,
    previous_version: d.servingVersion,
    stage: d.stage,
    error_code: d.errorCode,
    warmup_ms: null,
    at: chTime(d.failedAt),
  };
}

export interface RegistryEventFacts {
  kind:
    'trained' | 'registered' | 'promoted' | 'training_failed' | 'drift_detected' | 'degraded' | 'training_requested';
  model: string;
  version?: number | null;
  alias?: string | null;
  trainingRunId?: string | null;
  trigger?: string | null;
  at: string;
  detail: unknown;
}

export function registryEventRow(eventId: string, facts: RegistryEventFacts): Record<string, unknown> {
  return {
    event_id: eventId,
    kind: facts.kind,
    model: facts.model,
    version: facts.version ?? null,
    alias: facts.alias ?? null,
    training_run_id: facts.trainingRunId ?? null,
    trigger: facts.trigger ?? null,
    at: chTime(facts.at),
    detail: JSON.stringify(facts.detail),
  };
}

/** The reference rows of a registered version: one per input feature (and the score, when the event has it). */
export function referenceRows(
  data: Pick<ModelRegisteredV1, 'model' | 'version' | 'referenceDistributions' | 'predictionDistribution'>,
): Record<string, unknown>[] {
  const entries = Object.entries(data.referenceDistributions);
  if (data.predictionDistribution) entries.push([PREDICTION_FEATURE, data.predictionDistribution]);
  return entries.map(([feature, histogram]) => {
    const numeric = histogram.kind === 'numeric';
    return {
      model: data.model,
      version: data.version,
      feature,
      kind: histogram.kind,
      edges: numeric ? histogram.binEdges : [],
      categories: numeric ? [] : Object.keys(histogram.counts),
      counts: numeric ? histogram.counts : Object.values(histogram.counts),
      null_count: histogram.nullCount,
    };
  });
}
