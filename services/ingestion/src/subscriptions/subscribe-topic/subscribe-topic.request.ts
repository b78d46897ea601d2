import type { FromSchema } from '@mlops/http';
import { entityKeySchema, eventTimeSchema } from '../subscription.view';

/** `PUT /datasets/:name/subscriptions/:topic`: how the topic's messages become records of the dataset. */
export const subscribeTopicRequest = {
  type: 'object',
  required: ['format'],
  additionalProperties: false,
  properties: {
    format: {
      enum: ['json', 'debezium'],
      description: 'json: the value is the record; debezium: a change event (before, after, op, source.ts_ms)',
    },
    entityKey: {
      ...entityKeySchema,
      description: "where the entity id comes from; default: the dataset's entity key field",
    },
    eventTime: {
      ...eventTimeSchema,
      description:
        "where the event time comes from; change_time (debezium): source.ts_ms; default: the dataset's event time field",
    },
    deletes: {
      enum: ['skip', 'tombstone'],
      description: 'debezium deletes: skipped (default) or a record {entity key, event time, __deleted: true}',
    },
    start: {
      enum: ['latest', 'earliest'],
      description: 'a new subscription reads what is published from now on (default) or the whole topic',
    },
  },
} as const;
export type SubscribeTopicRequest = FromSchema<typeof subscribeTopicRequest>;
