import { TEST_ADMIN_TOKEN } from '@mlops/testing';

/**
 * What `npm start` gives a service process: the brokers, its own Kafka user and Postgres role (from the stack.env
 * that `npm test` sources), and the test admin token.
 */
export function stackEnv(service: string): Record<string, string> {
  const prefix = service.toUpperCase().replace(/-/g, '_');
  const need = (key: string): string => {
    const value = process.env[key];
    if (!value) throw new Error(`${key} is not set: run the tests with \`npm test\`, which starts the stack`);
    return value;
  };
  return {
    KAFKA_BROKERS: need('KAFKA_BROKERS'),
    KAFKA_SASL_MECHANISM: need('KAFKA_SASL_MECHANISM'),
    KAFKA_SASL_USERNAME: need(`${prefix}_KAFKA_SASL_USERNAME`),
    KAFKA_SASL_PASSWORD: need(`${prefix}_KAFKA_SASL_PASSWORD`),
    DATABASE_URL: need(`${prefix}_DATABASE_URL`),
    AUTH_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
  };
}
