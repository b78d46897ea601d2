import type { EventType } from './catalog';
import { EVENT_TYPES } from './catalog';

/** How a Kafka topic is created. Replication is the infrastructure's choice, not the contract's. */
export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  /** cleanup.policy=compact: the topic keeps the latest event per key, forever; otherwise delete after retentionMs. */
  readonly compacted: boolean;
  /** retention.ms for non-compacted topics. */
  readonly retentionMs?: number;
}

const DAY_MS = 86_400_000;
/** High-volume streams: replayable for a week. */
const STREAM = { partitions: 6, compacted: false, retentionMs: 7 * DAY_MS } as const;
/** Business facts with default parallelism, kept a month. */
const FACT = { partitions: 3, compacted: false, retentionMs: 30 * DAY_MS } as const;
/** Latest state per key (the key decides what "latest" means); consumers rebuild state by reading from the start. */
const LATEST_STATE = { partitions: 3, compacted: true } as const;
/** Dead letters wait for a person: long retention, never compacted (each dead letter matters, not the latest per key). */
export const DLQ_RETENTION_MS = 90 * DAY_MS;

/** One entry per event type: the mapped type makes a new schema fail to compile until its topic is decided. */
const EVENT_TOPICS: { readonly [T in EventType]: Omit<TopicSpec, 'name'> } = {
  'mlops.data.record.v1': STREAM,
  'mlops.data.validated.v1': STREAM,
  'mlops.data.rejected.v1': FACT,
  'mlops.data.quality.v1': FACT,
  'mlops.dataset.registered.v1': LATEST_STATE,
  'mlops.features.materialized.v1': LATEST_STATE,
  'mlops.features.export.requested.v1': FACT,
  'mlops.features.exported.v1': FACT,
  'mlops.dataset.snapshot.requested.v1': FACT,
  'mlops.dataset.snapshot.created.v1': FACT,
  'mlops.training.requested.v1': FACT,
  'mlops.training.failed.v1': FACT,
  'mlops.model.trained.v1': FACT,
  'mlops.model.registered.v1': FACT,
  'mlops.model.promoted.v1': LATEST_STATE,
  'mlops.deployment.succeeded.v1': FACT,
  'mlops.deployment.failed.v1': FACT,
  'mlops.prediction.requested.v1': STREAM,
  'mlops.prediction.completed.v1': STREAM,
  'mlops.prediction.logged.v1': STREAM,
  'mlops.batch.scored.v1': FACT,
  'mlops.drift.detected.v1': FACT,
  'mlops.model.degraded.v1': FACT,
  // Every service rebuilds its own token table from the latest state per token.
  'mlops.auth.token.changed.v1': LATEST_STATE,
};

/** The dead-letter topic of a topic: `<topic>.dlq`. */
export function dlqTopicOf(topic: string): string {
  return `${topic}.dlq`;
}

function specOf(type: EventType): TopicSpec {
  return { name: type, ...EVENT_TOPICS[type] };
}

function dlqSpecOf(source: TopicSpec): TopicSpec {
  return {
    name: dlqTopicOf(source.name),
    partitions: source.partitions >= 6 ? 3 : 1,
    compacted: false,
    retentionMs: DLQ_RETENTION_MS,
  };
}

/** Every topic the platform needs: one per event type (topic = type) and its dead-letter topic, sorted by name. */
export const TOPIC_SPECS: readonly TopicSpec[] = Object.freeze(
  EVENT_TYPES.flatMap((type) => {
    const spec = specOf(type);
    return [Object.freeze(spec), Object.freeze(dlqSpecOf(spec))];
  }),
);

/** The spec of a topic (event or dead-letter), if it is one of ours. */
export function topicSpecOf(name: string): TopicSpec | undefined {
  return TOPIC_SPECS.find((spec) => spec.name === name);
}
