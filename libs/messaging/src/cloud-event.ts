import { randomUUID } from 'node:crypto';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { type EventData, type EventType, isKnownEventType, parseEventType, partitionKeyOf, schemaUriOf, validateEventData } from '@mlops/contracts';
import { PoisonMessageError } from './errors';

/** A CloudEvents 1.0 event whose data is one of our catalog's payloads. */
export interface CloudEvent<T extends EventType = EventType> {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: T;
  readonly time: string;
  readonly subject?: string;
  readonly dataschema: string;
  readonly datacontenttype: 'application/json';
  /** Extension: the id shared by every event of one business flow. */
  readonly correlationid: string;
  /** Extension: the id of the event that caused this one. */
  readonly causationid?: string;
  /** Kafka partition key: the aggregate id (dataset+entity, model name...). */
  readonly partitionkey: string;
  readonly data: EventData<T>;
}

export interface NewEventOptions {
  source: string;
  /** Kafka key; by default the aggregate id taken from the data (the schema's `x-partition-key`). */
  key?: string;
  subject?: string;
  id?: string;
  time?: Date;
  /** The event this one answers: its correlation id is carried over and it becomes the cause. */
  causedBy?: Pick<CloudEvent, 'id' | 'correlationid'>;
  correlationId?: string;
}

export function newEvent<T extends EventType>(type: T, data: EventData<T>, options: NewEventOptions): CloudEvent<T> {
  const id = options.id ?? randomUUID();
  return {
    specversion: '1.0',
    id,
    source: options.source,
    type,
    time: (options.time ?? new Date()).toISOString(),
    ...(options.subject !== undefined ? { subject: options.subject } : {}),
    dataschema: schemaUriOf(type),
    datacontenttype: 'application/json',
    correlationid: options.causedBy?.correlationid ?? options.correlationId ?? id,
    ...(options.causedBy ? { causationid: options.causedBy.id } : {}),
    partitionkey: options.key ?? partitionKeyOf(type, data),
    data,
  };
}

export interface EncodedMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/**
 * Kafka binary content mode: attributes in `ce_*` headers, data as the JSON value. An optional attribute equal to
 * what decodeMessage assumes when it is absent (dataschema: the catalog's schema of the type; correlationid: the
 * event's own id, a flow's first event) is left out: each header costs kafkajs more to encode than the value.
 */
export function encodeEvent(event: CloudEvent): EncodedMessage {
  const headers: Record<string, string> = {
    ce_specversion: event.specversion,
    ce_id: event.id,
    ce_source: event.source,
    ce_type: event.type,
    ce_time: event.time,
    'content-type': event.datacontenttype,
  };
  if (event.dataschema !== schemaUriOf(event.type)) headers.ce_dataschema = event.dataschema;
  if (event.correlationid !== event.id) headers.ce_correlationid = event.correlationid;
  if (event.subject !== undefined) headers.ce_subject = event.subject;
  if (event.causationid !== undefined) headers.ce_causationid = event.causationid;
  return { key: event.partitionkey, value: Buffer.from(JSON.stringify(event.data)), headers };
}

export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  if (value === undefined || value === null) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
}

export interface DecodeOptions {
  maxEventBytes: number;
}

/** Decodes and validates one Kafka message; anything that can never be processed is a PoisonMessageError. */
export function decodeMessage(topic: string, message: KafkaMessage, options: DecodeOptions): CloudEvent {
  const size = message.value?.length ?? 0;
  if (size > options.maxEventBytes) {
    throw new PoisonMessageError('oversized', `value is ${size} bytes, over the ${options.maxEventBytes} byte limit`);
  }
  const attr = (name: string): string => {
    const value = headerText(message.headers, `ce_${name}`);
    if (value === undefined || value === '') throw new PoisonMessageError('missing-attribute', `missing CloudEvents attribute ce_${name}`);
    return value;
  };
  const specversion = attr('specversion');
  if (specversion !== '1.0') throw new PoisonMessageError('unsupported-specversion', `unsupported CloudEvents specversion "${specversion}"`);
  const id = attr('id');
  const source = attr('source');
  const type = attr('type');
  if (!isKnownEventType(type)) {
    const parsed = parseEventType(type);
    const why = parsed ? `no schema for ${parsed.domain}.${parsed.name} major version ${parsed.major}` : 'not of the form mlops.<domain>.<event>.v<major>';
    throw new PoisonMessageError('unknown-type', `unknown event type "${type}": ${why}`);
  }
  if (type !== topic) throw new PoisonMessageError('type-topic-mismatch', `event type "${type}" arrived on topic "${topic}"`);
  const contentType = headerText(message.headers, 'content-type');
  if (contentType !== undefined && !/^application\/(cloudevents\+)?json\b/.test(contentType)) {
    throw new PoisonMessageError('malformed-json', `unsupported content-type "${contentType}"`);
  }
  let data: unknown;
  try {
    data = JSON.parse(message.value?.toString('utf8') ?? '');
  } catch (error) {
    throw new PoisonMessageError('malformed-json', `value is not JSON: ${(error as Error).message}`);
  }
  // Readers ignore properties they do not know yet: a producer may ship a new optional field first.
  const validation = validateEventData(type, data, { unknownProperties: 'ignore' });
  if (!validation.ok) {
    const detail = validation.errors.map((e) => `${e.path || '/'} ${e.message}`).join('; ');
    throw new PoisonMessageError('schema-violation', `data does not match ${type}: ${detail}`, validation.errors);
  }
  const subject = headerText(message.headers, 'ce_subject');
  const causationid = headerText(message.headers, 'ce_causationid');
  return {
    specversion: '1.0',
    id,
    source,
    type,
    time: headerText(message.headers, 'ce_time') ?? new Date(Number(message.timestamp)).toISOString(),
    ...(subject !== undefined ? { subject } : {}),
    dataschema: headerText(message.headers, 'ce_dataschema') ?? schemaUriOf(type),
    datacontenttype: 'application/json',
    correlationid: headerText(message.headers, 'ce_correlationid') ?? id,
    ...(causationid !== undefined ? { causationid } : {}),
    partitionkey: message.key?.toString('utf8') ?? '',
    data: data as EventData<typeof type>,
  };
}
