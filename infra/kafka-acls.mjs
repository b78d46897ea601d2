#!/usr/bin/env node
// Grants each service's Kafka user what the event catalog (docs/architecture.md) says it does, and nothing else:
// READ on the topics it consumes (its inbox), WRITE on those it produces (its outbox, and its HTTP API for
// ingestion's records) and on the dead-letter topics of what it consumes, READ on the consumer groups named after
// it. Runs as the provisioner (the super user mlops-admin) after create-topics.mjs; idempotent (an ACL created
// twice is one ACL). The broker runs KRaft's StandardAuthorizer with allow.everyone.if.no.acl.found=false, so
// whatever is not granted here is refused.
//   node infra/kafka-acls.mjs          apply the grants
//   node infra/kafka-acls.mjs --print  print them (no broker needed)
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const AUTH = 'mlops.auth.token.changed.v1';
/** The catalog, by service: what it consumes and what it produces. Every service keeps its token table in step (AUTH). */
export const SERVICE_TOPICS = {
  ingestion: {
    consumes: ['mlops.data.record.v1', AUTH],
    produces: [
      'mlops.data.record.v1', // the HTTP API publishes records for its own consumer
      'mlops.dataset.registered.v1',
      'mlops.data.validated.v1',
      'mlops.data.rejected.v1',
      'mlops.data.quality.v1',
      AUTH,
    ],
  },
  'feature-store': {
    consumes: [
      'mlops.dataset.registered.v1',
      'mlops.data.validated.v1',
      'mlops.dataset.snapshot.requested.v1',
      'mlops.features.export.requested.v1', // batch scoring's input: a view's rows in a time range
      AUTH,
    ],
    produces: [
      'mlops.features.materialized.v1',
      'mlops.dataset.snapshot.created.v1',
      'mlops.features.exported.v1',
      AUTH,
    ],
  },
  trainer: {
    consumes: [
      'mlops.training.requested.v1',
      'mlops.dataset.snapshot.created.v1',
      'mlops.drift.detected.v1',
      'mlops.model.promoted.v1', // the champion of each alias, scored on a candidate's holdout
      AUTH,
    ],
    produces: [
      'mlops.training.requested.v1', // POST /training-runs announces the request through its outbox
      'mlops.dataset.snapshot.requested.v1',
      'mlops.model.trained.v1',
      'mlops.training.failed.v1',
      AUTH,
    ],
  },
  registry: {
    consumes: [
      'mlops.model.trained.v1',
      'mlops.deployment.succeeded.v1',
      'mlops.deployment.failed.v1',
      'mlops.drift.detected.v1',
      'mlops.model.degraded.v1',
      AUTH,
    ],
    produces: ['mlops.model.registered.v1', 'mlops.model.promoted.v1', AUTH],
  },
  deployer: {
    consumes: [
      'mlops.model.promoted.v1',
      'mlops.features.materialized.v1',
      'mlops.prediction.requested.v1',
      'mlops.deployment.failed.v1', // canary rollbacks announced by other replicas
      'mlops.features.exported.v1', // the rows a batch scoring job over a time range waits for
      AUTH,
    ],
    produces: [
      'mlops.features.export.requested.v1',
      'mlops.deployment.succeeded.v1',
      'mlops.deployment.failed.v1',
      'mlops.prediction.completed.v1',
      'mlops.prediction.logged.v1',
      'mlops.batch.scored.v1', // a batch scoring job's end, for whoever waits for its scores
      AUTH,
    ],
  },
  monitor: {
    consumes: [
      'mlops.prediction.logged.v1',
      'mlops.features.materialized.v1',
      'mlops.data.validated.v1',
      'mlops.data.rejected.v1',
      'mlops.data.quality.v1',
      'mlops.deployment.succeeded.v1',
      'mlops.deployment.failed.v1',
      'mlops.model.trained.v1',
      'mlops.model.promoted.v1',
      'mlops.training.requested.v1',
      'mlops.training.failed.v1',
      AUTH,
    ],
    produces: ['mlops.drift.detected.v1', 'mlops.model.degraded.v1', 'mlops.training.requested.v1', AUTH],
  },
};
/** Consumed by "anyone" in the catalog: every service may read it. */
const READ_BY_EVERY_SERVICE = ['mlops.model.registered.v1'];
/**
 * Topics of upstream teams that ingestion's subscriptions read (README: topic subscriptions), by prefix. On a real
 * cluster the owning team grants ingestion's user READ on its topic; here the examples' and tests' prefixes.
 */
const UPSTREAM_PREFIXES = (process.env.MLOPS_UPSTREAM_TOPIC_PREFIXES ?? 'shop.,crm.,upstream.')
  .split(',')
  .map((p) => p.trim())
  .filter(Boolean);

const kafkaUserOf = (service) => `mlops-${service}`;

/** Every grant: {principal, resource: 'topic'|'group', pattern: 'literal'|'prefixed', name, operation: 'read'|'write'}. */
export function grants() {
  const out = [];
  for (const [service, { consumes, produces }] of Object.entries(SERVICE_TOPICS)) {
    const principal = `User:${kafkaUserOf(service)}`;
    const add = (resource, pattern, name, operation) => out.push({ principal, resource, pattern, name, operation });
    for (const topic of new Set([...consumes, ...READ_BY_EVERY_SERVICE])) add('topic', 'literal', topic, 'read');
    for (const topic of new Set([...produces, ...consumes.map((t) => `${t}.dlq`)]))
      add('topic', 'literal', topic, 'write');
    // Its groups: the default (CONSUMER_GROUP = the service's name) and any it derives (ingestion.sub.<dataset>.<topic>).
    add('group', 'prefixed', service, 'read');
    if (service === 'ingestion') for (const prefix of UPSTREAM_PREFIXES) add('topic', 'prefixed', prefix, 'read');
  }
  return out;
}

async function apply() {
  const require = createRequire(import.meta.url);
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const config = require(path.join(root, 'libs/config/dist/src/index.js'));
  const {
    Kafka,
    logLevel,
    AclResourceTypes,
    AclOperationTypes,
    AclPermissionTypes,
    ResourcePatternTypes,
  } = require('kafkajs');
  const connection = config.loadConfig('acl-provisioner', config.kafkaKeys);
  const kafka = new Kafka({
    clientId: 'acl-provisioner',
    brokers: connection.KAFKA_BROKERS,
    ...config.kafkaSecurity(connection, 'acl-provisioner'),
    logLevel: logLevel.ERROR,
    retry: { retries: 8 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const acl = grants().map((g) => ({
      resourceType: g.resource === 'topic' ? AclResourceTypes.TOPIC : AclResourceTypes.GROUP,
      resourceName: g.name,
      resourcePatternType: g.pattern === 'literal' ? ResourcePatternTypes.LITERAL : ResourcePatternTypes.PREFIXED,
      principal: g.principal,
      host: '*',
      operation: g.operation === 'read' ? AclOperationTypes.READ : AclOperationTypes.WRITE,
      permissionType: AclPermissionTypes.ALLOW,
    }));
    await admin.createAcls({ acl });
    console.log(`[acls] ${acl.length} grants for ${Object.keys(SERVICE_TOPICS).length} service users`);
  } finally {
    await admin.disconnect();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--print')) {
    for (const g of grants()) console.log(`${g.principal} ${g.operation} ${g.resource} ${g.pattern} ${g.name}`);
  } else {
    await apply();
  }
}
