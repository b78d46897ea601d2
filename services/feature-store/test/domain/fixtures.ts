import type { FeatureView, FeatureViewDefinition, SourceDataset } from '../../src/domain';
import { validateFeatureView } from '../../src/domain';

/** customer_activity from the dataset.registered example, plus a signed balance, an amount and a nested object. */
export const customerActivity: SourceDataset = {
  name: 'customer_activity',
  entityKeyField: 'customer_id',
  eventTimeField: 'event_time',
  sensitiveFields: ['email'],
  recordSchema: {
    type: 'object',
    required: ['customer_id', 'event_time', 'tenure_days', 'monthly_spend', 'plan'],
    properties: {
      customer_id: { type: 'string' },
      event_time: { type: 'string', format: 'date-time' },
      email: { type: ['string', 'null'] },
      tenure_days: { type: 'integer', minimum: 0 },
      monthly_spend: { type: ['number', 'null'], minimum: 0 },
      support_tickets_30d: { type: ['integer', 'null'], minimum: 0 },
      plan: { enum: ['basic', 'premium', 'enterprise'] },
      balance: { type: 'number' },
      amount: { type: ['number', 'null'] },
      is_active: { type: 'boolean' },
      code: { type: 'string' },
      device: { type: 'object', properties: { os: { type: 'string' }, screen_inches: { type: 'number' } } },
    },
  },
};

export function compile(definition: FeatureViewDefinition, dataset: SourceDataset = customerActivity): FeatureView {
  const result = validateFeatureView(definition, dataset);
  if (!result.ok) throw new Error(`fixture view is invalid: ${JSON.stringify(result.error, null, 2)}`);
  return result.value;
}

export function view(features: FeatureViewDefinition['features']): FeatureView {
  return compile({
    name: 'customer_features',
    version: 1,
    source: { dataset: 'customer_activity' },
    ttl: 'P7D',
    features,
  });
}

/** Asserts two numbers agree to 1e-12 (libm may differ in the last bit). */
export function closeTo(actual: unknown, expected: number): boolean {
  return typeof actual === 'number' && Math.abs(actual - expected) < 1e-12;
}
