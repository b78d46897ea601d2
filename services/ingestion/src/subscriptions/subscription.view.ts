import type { FromSchema } from '@mlops/http';
import type { PartitionPosition } from './topic-consumers';
import type { Subscription } from './subscription';

const field = { type: 'string' } as const;
export const entityKeySchema = {
  oneOf: [
    {
      type: 'object',
      required: ['from'],
      additionalProperties: false,
      properties: { from: { const: 'kafka_key' } },
    },
    {
      type: 'object',
      required: ['from', 'field'],
      additionalProperties: false,
      properties: { from: { const: 'field' }, field },
    },
  ],
} as const;
export const eventTimeSchema = {
  oneOf: [
    {
      type: 'object',
      required: ['from', 'field'],
      additionalProperties: false,
      properties: { from: { const: 'field' }, field },
    },
    {
      type: 'object',
      required: ['from'],
      additionalProperties: false,
      properties: { from: { const: 'change_time' } },
    },
  ],
} as const;

const positionSchema = {
  type: 'object',
  required: ['partition', 'committedOffset', 'highWatermark', 'lag'],
  additionalProperties: false,
  properties: {
    partition: { type: 'integer' },
    committedOffset: {
      type: ['string', 'null'],
      description: 'the next offset the group reads; null before any commit',
    },
    highWatermark: { type: 'string' },
    lag: { type: 'string', description: 'messages published and not yet consumed' },
  },
} as const;

/** A subscription as the API shows it. */
export const subscriptionResponse = {
  type: 'object',
  required: [
    'dataset',
    'topic',
    'format',
    'entityKey',
    'eventTime',
    'deletes',
    'start',
    'consumerGroup',
    'createdAt',
    'updatedAt',
  ],
  additionalProperties: false,
  properties: {
    dataset: { type: 'string' },
    topic: { type: 'string' },
    format: { enum: ['json', 'debezium'] },
    entityKey: entityKeySchema,
    eventTime: eventTimeSchema,
    deletes: { enum: ['skip', 'tombstone'] },
    start: { enum: ['latest', 'earliest'] },
    consumerGroup: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    unchanged: { const: true },
    positions: { type: 'array', items: positionSchema },
    positionsError: {
      type: 'string',
      description: 'why the positions could not be read (Kafka unavailable, topic gone)',
    },
  },
} as const;
export type SubscriptionResponse = FromSchema<typeof subscriptionResponse>;

export function subscriptionView(s: Subscription, consumerGroup: string): SubscriptionResponse {
  return {
    dataset: s.dataset,
    topic: s.topic,
    format: s.format,
    entityKey: s.entityKey,
    eventTime: s.eventTime,
    deletes: s.deletes,
    start: s.start,
    consumerGroup,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}

export type { PartitionPosition };
