// @mlops/contracts: the event catalog as types, schemas, validators and topic specs, generated from schemas/.
export * from './generated/types';
export { EventTypes, EVENT_TYPE_LIST } from './generated/event-types';
export { EVENT_SCHEMAS, type EventJsonSchema, type InvalidExample } from './generated/schemas';
export {
  type EventType,
  type EventData,
  type ParsedEventType,
  EVENT_TYPES,
  parseEventType,
  isKnownEventType,
  schemaOf,
  schemaUriOf,
  exampleEventData,
  partitionKeyFieldsOf,
  partitionKeyOf,
} from './catalog';
export { type TopicSpec, TOPIC_SPECS, DLQ_RETENTION_MS, dlqTopicOf, topicSpecOf } from './topics';
export {
  type ValidationIssue,
  type ValidationResult,
  type ValidationOptions,
  validateEventData,
  assertEventData,
  EventValidationError,
} from './validation';
export {
  type CompatibilityMode,
  type CompatibilityOptions,
  type SchemaViolation,
  type ViolationDirection,
  COMPATIBILITY_MODES,
  compareSchemas,
  compareSchemaSets,
  compatibilityViolations,
  consequenceOf,
  declaredTypes,
  deepEqual,
} from './schema-compat';
