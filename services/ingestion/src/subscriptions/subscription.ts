/**
 * A dataset's subscription to a topic owned by an upstream team, and how one Kafka message of it becomes a record.
 * Pure: no Nest, Kafka or SQL here.
 */
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { type DatasetVersion, FIELD_NAME } from '../domain/dataset';
import { type Json, type JsonObject, escapePointer, isJsonObject } from '../domain/json';
import type { RecordError } from '../domain/record-check';

/** `json`: the value is the record; `debezium`: the value is a change event (`before`, `after`, `op`, `source`). */
export type SubscriptionFormat = 'json' | 'debezium';
/** Where the entity id comes from; the value lands in the dataset's entity key field. */
export type EntityKeySource = { from: 'kafka_key' } | { from: 'field'; field: string };
/** Where the event time comes from; `change_time` (Debezium only): the change's commit time, `source.ts_ms`. */
export type EventTimeSource = { from: 'field'; field: string } | { from: 'change_time' };
/** What a Debezium delete becomes: nothing, or a tombstone record (entity key, event time, `__deleted: true`). */
export type DeleteRule = 'skip' | 'tombstone';
/** Where a new subscription starts reading: messages published after it (`latest`) or the whole topic. */
export type StartPosition = 'latest' | 'earliest';

export interface SubscriptionMapping {
  readonly format: SubscriptionFormat;
  readonly entityKey: EntityKeySource;
  readonly eventTime: EventTimeSource;
  readonly deletes: DeleteRule;
}

export interface Subscription extends SubscriptionMapping {
  readonly dataset: string;
  readonly topic: string;
  readonly start: StartPosition;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** The flag field of a tombstone record; a dataset fed tombstones declares it (a boolean). */
export const DELETED_FIELD = '__deleted';
/** Kafka's own rule for topic names. */
export const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

/** The consumer group (and inbox consumer) of a subscription: every replica of ingestion joins it. */
export function consumerGroupOf(dataset: string, topic: string): string {
  return `ingestion.sub.${dataset}.${topic}`;
}

/** A subscription as requested: everything but the format may be left out. */
export interface SubscriptionDraft {
  readonly format: SubscriptionFormat;
  readonly entityKey?: EntityKeySource;
  readonly eventTime?: EventTimeSource;
  readonly deletes?: DeleteRule;
  readonly start?: StartPosition;
}

export interface InvalidSubscription extends DomainError<'invalid_subscription'> {
  readonly details: { readonly problems: string[] };
}

/** The mapping a draft asks for, with defaults (the dataset's own fields; deletes skipped), or every problem. */
export function checkSubscription(
  dataset: DatasetVersion,
  topic: string,
  draft: SubscriptionDraft,
): Result<SubscriptionMapping & { start: StartPosition }, InvalidSubscription> {
  const problems: string[] = [];
  if (!TOPIC_NAME.test(topic)) problems.push(`topic "${topic}" is not a Kafka topic name`);
  if (topic.startsWith('mlops.'))
    problems.push(`topic "${topic}" belongs to the platform: publish mlops.data.record.v1 events instead`);
  const entityKey = draft.entityKey ?? { from: 'field', field: dataset.entityKeyField };
  const eventTime = draft.eventTime ?? { from: 'field', field: dataset.eventTimeField };
  const deletes = draft.deletes ?? 'skip';
  for (const source of [entityKey, eventTime])
    if (source.from === 'field' && !FIELD_NAME.test(source.field))
      problems.push(`"${source.field}" is not a field name (${FIELD_NAME.source})`);
  if (draft.format === 'json') {
    if (eventTime.from === 'change_time') problems.push('eventTime "change_time" needs the debezium format');
    if (draft.deletes !== undefined) problems.push('deletes applies to the debezium format only');
  }
  const declared = isJsonObject(dataset.recordSchema.properties) ? dataset.recordSchema.properties : {};
  if (deletes === 'tombstone' && !(DELETED_FIELD in declared))
    problems.push(`deletes "tombstone" needs the dataset schema to declare a boolean field "${DELETED_FIELD}"`);
  if (problems.length > 0)
    return err({
      ...domainError(
        'invalid_subscription',
        `cannot subscribe "${dataset.name}" to "${topic}": ${problems.join('; ')}`,
      ),
      details: { problems },
    });
  return ok({ format: draft.format, entityKey, eventTime, deletes, start: draft.start ?? 'latest' });
}

export function sameMapping(a: SubscriptionMapping, b: SubscriptionMapping): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(m: SubscriptionMapping): unknown[] {
  return [m.format, m.entityKey, m.eventTime, m.deletes].map((part) =>
    typeof part === 'object' ? Object.entries(part).sort() : part,
  );
}

/** One Kafka message as the consumer read it: key and value as text (null when absent). */
export interface TopicMessage {
  readonly key: string | null;
  readonly value: string | null;
}

/** What a message becomes: a record for the record use case, nothing, or a rejection with every reason. */
export type MappedMessage =
  | { kind: 'record'; entityId: string; record: JsonObject }
  | { kind: 'skip'; reason: string }
  | { kind: 'malformed'; entityId: string | undefined; errors: RecordError[] };

const malformed = (
  entityId: string | undefined,
  kind: RecordError['kind'],
  path: string,
  message: string,
): MappedMessage => ({ kind: 'malformed', entityId, errors: [{ kind, path, message, keyword: 'subscription' }] });

/**
 * Turns a message into the record of a dataset: the mapped entity id and event time are moved into the dataset's
 * entity key and event time fields (an entity id from the Kafka key is added when the record lacks it, so a
 * different value in the record is an entity_key_mismatch). A message with no value (a Kafka tombstone, which
 * Debezium sends after each delete for compaction) is skipped.
 */
export function mapMessage(
  subscription: SubscriptionMapping,
  dataset: Pick<DatasetVersion, 'entityKeyField' | 'eventTimeField'>,
  message: TopicMessage,
): MappedMessage {
  const keyValue = message.key === null ? undefined : entityKeyOf(message.key);
  if (message.value === null) return { kind: 'skip', reason: 'a message without a value (Kafka tombstone)' };
  let parsed: Json;
  try {
    parsed = JSON.parse(message.value) as Json;
  } catch (error) {
    return malformed(idOf(keyValue), 'type_mismatch', '', `the message value is not JSON: ${(error as Error).message}`);
  }
  if (!isJsonObject(parsed))
    return malformed(
      idOf(keyValue),
      'type_mismatch',
      '',
      `the message value is ${describeJson(parsed)}, not a JSON object`,
    );
  if (subscription.format === 'json') return toRecord(subscription, dataset, { ...parsed }, keyValue, undefined);
  return mapChange(subscription, dataset, unwrap(parsed), keyValue);
}

const OPS = { c: 'create', u: 'update', r: 'snapshot read', d: 'delete' } as const;
type Op = keyof typeof OPS;
const isOp = (value: unknown): value is Op => typeof value === 'string' && Object.hasOwn(OPS, value);

function mapChange(
  subscription: SubscriptionMapping,
  dataset: Pick<DatasetVersion, 'entityKeyField' | 'eventTimeField'>,
  change: Json,
  keyValue: KeyValue | undefined,
): MappedMessage {
  const keyId = idOf(keyValue);
  if (!isJsonObject(change))
    return malformed(keyId, 'type_mismatch', '/payload', `the change event is ${describeJson(change)}, not an object`);
  const op = change.op;
  if (!isOp(op))
    return malformed(
      keyId,
      'constraint_violation',
      '/op',
      `unknown change operation ${JSON.stringify(op ?? null)}: expected one of c, u, d, r`,
    );
  const source = isJsonObject(change.source) ? change.source : {};
  const changedAt = typeof source.ts_ms === 'number' && Number.isFinite(source.ts_ms) ? source.ts_ms : undefined;
  if (op === 'd') {
    if (subscription.deletes === 'skip') return { kind: 'skip', reason: 'a delete, and deletes are skipped' };
    const before = isJsonObject(change.before) ? change.before : {};
    const keyed =
      subscription.entityKey.from === 'kafka_key' ? keyValue : keyValueOf(before[subscription.entityKey.field]);
    const entityId = idOf(keyed);
    if (keyed === undefined || entityId === undefined)
      return malformed(keyId, 'missing_field', '/before', 'a delete without the entity key of the deleted row');
    if (changedAt === undefined)
      return malformed(entityId, 'missing_field', '/source/ts_ms', 'a delete without its change time');
    // A tombstone happens at the change time, whatever the mapping of live rows says.
    return {
      kind: 'record',
      entityId,
      record: {
        [dataset.entityKeyField]: keyed,
        [dataset.eventTimeField]: new Date(changedAt).toISOString(),
        [DELETED_FIELD]: true,
      },
    };
  }
  if (!isJsonObject(change.after))
    return malformed(
      keyId,
      'missing_field',
      '/after',
      `a ${OPS[op]} without the row after the change (${describeJson(change.after ?? null)})`,
    );
  return toRecord(subscription, dataset, { ...change.after }, keyValue, changedAt);
}

function toRecord(
  subscription: SubscriptionMapping,
  dataset: Pick<DatasetVersion, 'entityKeyField' | 'eventTimeField'>,
  record: JsonObject,
  keyValue: KeyValue | undefined,
  changedAt: number | undefined,
): MappedMessage {
  const { entityKey, eventTime } = subscription;
  const keyId = idOf(keyValue);
  if (entityKey.from === 'kafka_key') {
    if (keyValue === undefined || keyId === undefined)
      return malformed(
        undefined,
        'missing_field',
        `/${escapePointer(dataset.entityKeyField)}`,
        'the entity id comes from the Kafka key, and the message has no usable key (1..256 characters)',
      );
    if (record[dataset.entityKeyField] === undefined) record[dataset.entityKeyField] = keyValue;
  } else {
    move(record, entityKey.field, dataset.entityKeyField);
  }
  if (eventTime.from === 'change_time') {
    if (changedAt === undefined)
      return malformed(keyId, 'missing_field', '/source/ts_ms', 'the event time is the change time, which is missing');
    record[dataset.eventTimeField] = new Date(changedAt).toISOString();
  } else {
    move(record, eventTime.field, dataset.eventTimeField);
  }
  const own = idOf(record[dataset.entityKeyField]);
  // The record use case checks the entity key; an unusable one is reported there, against the record.
  return { kind: 'record', entityId: (entityKey.from === 'kafka_key' ? keyId : own) ?? '(unknown)', record };
}

/** Moves a mapped field to the dataset's field name (the upstream's name would be an unknown field). */
function move(record: JsonObject, from: string, to: string): void {
  if (from === to || record[from] === undefined) return;
  record[to] = record[from];
  delete record[from];
}

/** The schema/payload wrapper of Kafka Connect's JsonConverter with schemas enabled, taken off. */
function unwrap(value: JsonObject): Json {
  const keys = Object.keys(value);
  return keys.length === 2 && 'schema' in value && 'payload' in value ? value.payload! : value;
}

/** An entity key as upstream wrote it: a number stays a number, so a dataset's integer key field accepts it. */
export type KeyValue = string | number;

/**
 * The entity key a Kafka key carries: the key text, or, for a JSON key (Debezium's `{"id": 1004}`, with or without
 * the schema/payload wrapper), its only field; a JSON string or integer stands for itself.
 */
export function entityKeyOf(key: string): KeyValue | undefined {
  let parsed: Json | undefined;
  try {
    parsed = JSON.parse(key) as Json;
  } catch {
    parsed = undefined;
  }
  if (isJsonObject(parsed)) {
    const inner = unwrap(parsed);
    const fields = isJsonObject(inner) ? Object.values(inner) : [];
    return fields.length === 1 ? keyValueOf(fields[0]) : undefined;
  }
  if (typeof parsed === 'string' || typeof parsed === 'number') return keyValueOf(parsed);
  return keyValueOf(key);
}

function keyValueOf(value: Json | undefined): KeyValue | undefined {
  return idOf(value) === undefined ? undefined : (value as KeyValue);
}

/** The entity id of a key value: a string or integer of 1..256 characters. */
function idOf(value: Json | undefined): string | undefined {
  const id =
    typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value)) ? String(value) : undefined;
  return id !== undefined && id.length >= 1 && id.length <= 256 ? id : undefined;
}

function describeJson(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
