// Every schema of the catalog: house rules, valid examples pass, invalid examples fail for their stated reason.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  EVENT_SCHEMAS,
  EVENT_TYPES,
  type EventData,
  type EventType,
  exampleEventData,
  partitionKeyOf,
  schemaOf,
  schemaUriOf,
  validateEventData,
} from '../src';
import { findRepoRoot } from './support';

const schemasDir = join(findRepoRoot(), 'schemas');

describe('schema files', () => {
  it('has one schema file per event type, and the embedded copies equal the files', () => {
    const files = readdirSync(schemasDir)
      .filter((f) => f.endsWith('.json'))
      .sort();
    assert.deepEqual(
      files,
      EVENT_TYPES.map((t) => `${t}.json`),
    );
    for (const type of EVENT_TYPES) {
      assert.deepEqual(EVENT_SCHEMAS[type], JSON.parse(readFileSync(join(schemasDir, `${type}.json`), 'utf8')), type);
    }
  });

  it('covers the whole v1 catalog of ARCHITECTURE.md plus dataset.registered, data.quality, auth.token.changed, the feature exports and batch.scored', () => {
    const catalog = [
      'mlops.data.record.v1',
      'mlops.data.validated.v1',
      'mlops.data.rejected.v1',
      'mlops.data.quality.v1',
      'mlops.dataset.registered.v1',
      'mlops.features.materialized.v1',
      'mlops.dataset.snapshot.requested.v1',
      'mlops.dataset.snapshot.created.v1',
      'mlops.training.requested.v1',
      'mlops.model.trained.v1',
      'mlops.training.failed.v1',
      'mlops.model.registered.v1',
      'mlops.model.promoted.v1',
      'mlops.deployment.succeeded.v1',
      'mlops.deployment.failed.v1',
      'mlops.prediction.requested.v1',
      'mlops.prediction.completed.v1',
      'mlops.prediction.logged.v1',
      'mlops.drift.detected.v1',
      'mlops.model.degraded.v1',
      'mlops.auth.token.changed.v1',
      'mlops.features.export.requested.v1',
      'mlops.features.exported.v1',
      'mlops.batch.scored.v1',
    ];
    assert.deepEqual([...EVENT_TYPES].sort(), [...catalog].sort());
  });
});

for (const type of EVENT_TYPES) {
  describe(type, () => {
    const schema = schemaOf(type);

    it('follows the house rules', () => {
      assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
      assert.equal(schema.$id, `https://schemas.mlops.dev/events/${type}.json`);
      assert.equal(schemaUriOf(type), schema.$id);
      assert.equal(schema.type, 'object');
      assert.ok(schema.title.length > 0 && schema.description.length > 0);
      assert.equal(schema.additionalProperties, false, 'event payloads are closed (see schemas/README.md)');
      const properties = schema.properties as Record<string, { description?: string; $ref?: string }>;
      for (const [name, property] of Object.entries(properties)) {
        assert.ok(property.description || property.$ref, `${type}: property ${name} is documented`);
      }
      assert.ok(schema.examples.length >= 1);
      assert.ok(schema['x-invalid-examples'].length >= 2);
    });

    schema.examples.forEach((example, i) => {
      it(`accepts example ${i}`, () => {
        assert.deepEqual(validateEventData(type, example), { ok: true });
      });
    });

    it('derives a partition key from every example', () => {
      for (const example of schema.examples) {
        const key = partitionKeyOf(type, example as EventData<EventType>);
        assert.match(key, /^[^/]+(\/[^/]+)*$/);
        assert.equal(key.split('/').length, schema['x-partition-key'].length);
      }
    });

    for (const invalid of schema['x-invalid-examples']) {
      it(`rejects: ${invalid.description}`, () => {
        const result = validateEventData(type, invalid.value);
        assert.equal(result.ok, false);
        if (result.ok) return;
        assert.ok(invalid.expect, 'every invalid example states the issue it must produce');
        const { path, keyword } = invalid.expect;
        assert.ok(
          result.errors.some((e) => e.path === path && e.keyword === keyword),
          `expected ${keyword} at "${path}", got ${JSON.stringify(result.errors.map((e) => [e.path, e.keyword]))}`,
        );
      });
    }
  });
}

describe('examples as a whole', () => {
  it('exampleEventData returns a fresh, valid, mutable copy', () => {
    for (const type of EVENT_TYPES) {
      const a = exampleEventData(type);
      const b = exampleEventData(type);
      assert.notEqual(a, b);
      assert.deepEqual(a, b);
      assert.ok(!Object.isFrozen(a));
      assert.ok(validateEventData(type, a).ok);
    }
  });

  it('ties the story together: the examples reference each other consistently', () => {
    const promoted = exampleEventData('mlops.model.promoted.v1');
    const registered = exampleEventData('mlops.model.registered.v1');
    const succeeded = exampleEventData('mlops.deployment.succeeded.v1');
    assert.equal(promoted.artifact.sha256, registered.artifact.sha256);
    assert.equal(succeeded.artifactSha256, promoted.artifact.sha256);
    assert.deepEqual(promoted.signature, registered.signature);
    const snapshot = exampleEventData('mlops.dataset.snapshot.created.v1');
    assert.equal(registered.lineage.snapshotSha256, snapshot.sha256);
    const features = exampleEventData('mlops.features.materialized.v1');
    for (const name of promoted.signature.featureNames) assert.ok(name in features.features, name);
  });

  it('accepts every example with unknown properties added when consumers ignore them', () => {
    const types: readonly EventType[] = EVENT_TYPES;
    for (const type of types) {
      const data = { ...(exampleEventData(type) as object), addedInALaterMinor: { any: 'thing' } };
      assert.equal(validateEventData(type, data).ok, false, `${type}: producers reject it`);
      assert.deepEqual(
        validateEventData(type, data, { unknownProperties: 'ignore' }),
        { ok: true },
        `${type}: tolerant consumers accept it`,
      );
    }
  });
});
