import type { FromSchema } from '@mlops/http';
import { datasetNameParam } from '../datasets/dataset-name.request';

/** `/datasets/:name/subscriptions/:topic`: a dataset name and a Kafka topic name. */
export const subscriptionParams = {
  type: 'object',
  required: ['name', 'topic'],
  additionalProperties: false,
  properties: {
    name: datasetNameParam,
    topic: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,249}$', description: 'Kafka topic name' },
  },
} as const;
export type SubscriptionParams = FromSchema<typeof subscriptionParams>;
