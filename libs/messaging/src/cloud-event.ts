import { randomUUID } from 'node:crypto';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import {
  type EventData,
  type EventType,
  isKnownEventType,
  parseEventType,
  partitionKeyOf,
  schemaUriOf,
  validateEventData,
} from '@mlops/contracts';
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
  for (const [name, value] of Object.entries(optionalAttributes(event))) headers[`ce_${name}`] = value;
  return { key: event.partitionkey, value: Buffer.from(JSON.stringify(event.data)), headers };
}

/**
 * The optional attributes both content modes send: dataschema and correlationid only when they differ from what
 * decodeMessage assumes when absent, subject and causationid when set.
 */
function optionalAttributes(event: CloudEvent): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (event.dataschema !== schemaUriOf(event.type)) attributes.dataschema = event.dataschema;
  if (event.correlationid !== event.id) attributes.correlationid = event.correlationid;
  if (event.subject !== undefined) attributes.subject = event.subject;
  if (event.causationid !== undefined) attributes.causationid = event.causationid;
  return attributes;
}

/** The content-type of a structured-mode message (the CloudEvents Kafka binding's JSON event format). */
export const STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json; charset=UTF-8';

/**
 * Kafka structured content mode: the whole event as one JSON envelope in the value, with one header (content-type).
 * Its optional attributes are those of binary mode (optionalAttributes). For high-volume
 * streams: kafkajs encodes one header where binary mode has six or more (about half of its encoding time per record).
 */
export function encodeStructured(event: CloudEvent): EncodedMessage {
  const envelope: Record<string, unknown> = {
    specversion: event.specversion,
    id: event.id,
    source: event.source,
    type: event.type,
    time: event.time,
    datacontenttype: event.datacontenttype,
    ...optionalAttributes(event),
    data: event.data,
  };
  return {
    key: event.partitionkey,
    value: Buffer.from(JSON.stringify(envelope)),
    headers: { 'content-type': STRUCTURED_CONTENT_TYPE },
  };
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

/** The attributes of a message, read from ce_* headers (binary mode) or from the JSON envelope (structured mode). */
interface ReadAttributes {
  required(name: string): string;
  optional(name: string): string | undefined;
}

const STRUCTURED = /^application\/cloudevents\+json\b/i;

/**
 * Decodes and validates one Kafka message, in either content mode of the CloudEvents Kafka binding: binary
 * (attributes in ce_* headers, data as the value) or structured (`content-type: application/cloudevents+json`,
 * the whole event as a JSON envelope in the value, as Debezium's and the official SDKs' structured emitters send).
 * Anything that can never be processed is a PoisonMessageError.
 */
export function decodeMessage(topic: string, message: KafkaMessage, options: DecodeOptions): CloudEvent {
  const size = message.value?.length ?? 0;
  if (size > options.maxEventBytes) {
    throw new PoisonMessageError('oversized', `value is ${size} bytes, over the ${options.maxEventBytes} byte limit`);
  }
  const contentType = headerText(message.headers, 'content-type');
  if (contentType !== undefined && STRUCTURED.test(contentType)) return decodeStructured(topic, message);
  const attributes: ReadAttributes = {
    required(name) {
      const value = headerText(message.headers, `ce_${name}`);
      if (value === undefined || value === '')
        throw new PoisonMessageError('missing-attribute', `missing CloudEvents attribute ce_${name}`);
      return value;
    },
    optional: (name) => headerText(message.headers, `ce_${name}`),
  };
  const type = checkedType(topic, attributes);
  if (contentType !== undefined && !/^application\/json\b/i.test(contentType)) {
    throw new PoisonMessageError('malformed-json', `unsupported content-type "${contentType}"`);
  }
  let data: unknown;
  try {
    data = JSON.parse(message.value?.toString('utf8') ?? '');
  } catch (error) {
    throw new PoisonMessageError('malformed-json', `value is not JSON: ${(error as Error).message}`);
  }
  return eventOf(type, attributes, data, message);
}

function decodeStructured(topic: string, message: KafkaMessage): CloudEvent {
  let envelope: unknown;
  try {
    envelope = JSON.parse(message.value?.toString('utf8') ?? '');
  } catch (error) {
    throw new PoisonMessageError('malformed-json', `structured-mode value is not JSON: ${(error as Error).message}`);
  }
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
    throw new PoisonMessageError(
      'malformed-json',
      'a structured-mode value must be one CloudEvents JSON object (batches are not supported)',
    );
  }
  const fields = envelope as Record<string, unknown>;
  const attributes: ReadAttributes = {
    required(name) {
      const value = fields[name];
      if (typeof value !== 'string' || value === '')
        throw new PoisonMessageError(
          'missing-attribute',
          `missing CloudEvents attribute "${name}" in the structured-mode envelope`,
        );
      return value;
    },
    optional(name) {
      const value = fields[name];
      if (value === undefined || value === null) return undefined;
      if (typeof value !== 'string')
        throw new PoisonMessageError('missing-attribute', `CloudEvents attribute "${name}" must be a string`);
      return value;
    },
  };
  const type = checkedType(topic, attributes);
  const datacontenttype = attributes.optional('datacontenttype');
  if (datacontenttype !== undefined && !/^application\/json\b/i.test(datacontenttype)) {
    throw new PoisonMessageError('malformed-json', `unsupported datacontenttype "${datacontenttype}"`);
  }
  let data: unknown = fields.data;
  if (data === undefined && typeof fields.data_base64 === 'string') {
    try {
      data = JSON.parse(Buffer.from(fields.data_base64, 'base64').toString('utf8'));
    } catch (error) {
      throw new PoisonMessageError('malformed-json', `data_base64 is not base64 JSON: ${(error as Error).message}`);
    }
  }
  return eventOf(type, attributes, data, message);
}

function checkedType(topic: string, attributes: ReadAttributes): EventType {
  const specversion = attributes.required('specversion');
  if (specversion !== '1.0')
    throw new PoisonMessageError('unsupported-specversion', `unsupported CloudEvents specversion "${specversion}"`);
  attributes.required('id');
  attributes.required('source');
  const type = attributes.required('type');
  if (!isKnownEventType(type)) {
    const parsed = parseEventType(type);
    const why = parsed
      ? `no schema for ${parsed.domain}.${parsed.name} major version ${parsed.major}`
      : 'not of the form mlops.<domain>.<event>.v<major>';
    throw new PoisonMessageError('unknown-type', `unknown event type "${type}": ${why}`);
  }
  if (type !== topic)
    throw new PoisonMessageError('type-topic-mismatch', `event type "${type}" arrived on topic "${topic}"`);
  return type;
}

function eventOf(type: EventType, attributes: ReadAttributes, data: unknown, message: KafkaMessage): CloudEvent {
  // Readers ignore properties they do not know yet: a producer may ship a new optional field first.
  const validation = validateEventData(type, data, { unknownProperties: 'ignore' });
  if (!validation.ok) {
    const detail = validation.errors.map((e) => `${e.path || '/'} ${e.message}`).join('; ');
    throw new PoisonMessageError('schema-violation', `data does not match ${type}: ${detail}`, validation.errors);
  }
  const id = attributes.required('id');
  const subject = attributes.optional('subject');
  const causationid = attributes.optional('causationid');
  return {
    specversion: '1.0',
    id,
    source: attributes.required('source'),
    type,
    time: attributes.optional('time') ?? new Date(Number(message.timestamp)).toISOString(),
    ...(subject !== undefined ? { subject } : {}),
    dataschema: attributes.optional('dataschema') ?? schemaUriOf(type),
    datacontenttype: 'application/json',
    correlationid: attributes.optional('correlationid') ?? id,
    ...(causationid !== undefined ? { causationid } : {}),
    partitionkey: message.key?.toString('utf8') ?? attributes.optional('partitionkey') ?? '',
    data: data as EventData<typeof type>,
  };
}
