import { EVENT_TYPE_LIST } from './generated/event-types';
import { EVENT_SCHEMAS, type EventJsonSchema } from './generated/schemas';
import type { EventDataMap } from './generated/types';

/** Every CloudEvents `type` of the catalog, e.g. `'mlops.model.trained.v1'`; also its Kafka topic. */
export type EventType = keyof EventDataMap;
/** The `data` payload type of an event type. */
export type EventData<T extends EventType> = EventDataMap[T];

/** The parts of `mlops.<domain>.<name>.v<major>`; name may hold dots (`snapshot.requested`). */
export interface ParsedEventType {
  domain: string;
  name: string;
  major: number;
}

const EVENT_TYPE_PATTERN = /^mlops\.([a-z][a-z0-9-]*)\.([a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)*)\.v([1-9][0-9]*)$/;

deepFreeze(EVENT_SCHEMAS);

/** Splits an event type string; undefined when it is not of the form `mlops.<domain>.<name>.v<major>`. Does not check the catalog. */
export function parseEventType(type: string): ParsedEventType | undefined {
  const match = EVENT_TYPE_PATTERN.exec(type);
  if (!match) return undefined;
  const [, domain, name, major] = match as unknown as [string, string, string, string];
  return { domain, name, major: Number(major) };
}

/** Whether the string is an event type of this catalog (one with a schema). */
export function isKnownEventType(type: string): type is EventType {
  return Object.prototype.hasOwnProperty.call(EVENT_SCHEMAS, type);
}

/** Every event type of the catalog, sorted. */
export const EVENT_TYPES: readonly EventType[] = EVENT_TYPE_LIST;

/** The schema of an event type (deeply frozen). */
export function schemaOf(type: EventType): EventJsonSchema {
  const schema = EVENT_SCHEMAS[type];
  if (schema === undefined) throw new TypeError(`unknown event type "${String(type)}"`);
  return schema;
}

/** The schema's `$id`, used as the CloudEvents `dataschema` attribute. */
export function schemaUriOf(type: EventType): string {
  return schemaOf(type).$id;
}

/** A fresh copy of the first example of the schema: valid data, handy in tests. */
export function exampleEventData<T extends EventType>(type: T): EventData<T> {
  return structuredClone(schemaOf(type).examples[0]) as EventData<T>;
}

/** Property paths of `data` that form the Kafka key of the type (schema keyword `x-partition-key`). */
export function partitionKeyFieldsOf(type: EventType): readonly string[] {
  return schemaOf(type)['x-partition-key'];
}

/**
 * The Kafka key of an event: the values at its `x-partition-key` paths joined with "/",
 * e.g. `customer_activity/customer-000123` or `churn/production`. Throws when a key field is absent.
 */
export function partitionKeyOf<T extends EventType>(type: T, data: EventData<T>): string {
  return partitionKeyFieldsOf(type)
    .map((path) => {
      const value = path.split('.').reduce<unknown>((node, key) => (isRecord(node) ? node[key] : undefined), data);
      if (typeof value !== 'string' && typeof value !== 'number') {
        throw new TypeError(`${type}: partition key field "${path}" is missing or not a string/number`);
      }
      return String(value);
    })
    .join('/');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function deepFreeze(value: unknown): void {
  if (!isRecord(value) || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}
