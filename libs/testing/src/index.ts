// @mlops/testing: what the integration tests of every package share. They run against the real stack that
// `npm test` (or `infra/stack.sh up`) starts, and refuse to run without it.
export {
  databaseUrl,
  eventually,
  kafkaBrokers,
  kafkaTestConnection,
  kafkaTestEnv,
  kafkaTestSecurity,
  requireEnv,
  uid,
} from './wait';
export { TEST_EPOCH_MS, endLeftoverSockets, header, positionGroupAt, readTopic, readTopicAs, testKafka } from './kafka';
export { TEST_ADMIN_TOKEN, authorized } from './http';
export { cachedVenv } from './python';
