// validateEventData / assertEventData: every issue reported, useful paths, compiled once, tolerant consumer mode.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
// The spy must be imported first: imports run in source order, so it wraps compile before the library loads.
import { compiledIds } from './compile-spy';
import {
  EventValidationError,
  type ValidationIssue,
  assertEventData,
  exampleEventData,
  schemaUriOf,
  validateEventData,
} from '../src';

const issuesOf = (result: ReturnType<typeof validateEventData>): ValidationIssue[] => (result.ok ? [] : result.errors);
const brief = (issues: readonly ValidationIssue[]) => issues.map((i) => `${i.path} ${i.keyword}`).sort();

describe('compilation', () => {
  it('compiles nothing at import and each validator once, on first use', () => {
    const id = schemaUriOf('mlops.drift.detected.v1');
    assert.equal(compiledIds.filter((x) => x === id).length, 0);
    for (let i = 0; i < 3; i++)
      validateEventData('mlops.drift.detected.v1', exampleEventData('mlops.drift.detected.v1'));
    validateEventData('mlops.drift.detected.v1', {});
    assert.equal(compiledIds.filter((x) => x === id).length, 1);
    validateEventData('mlops.drift.detected.v1', {}, { unknownProperties: 'ignore' });
    validateEventData('mlops.drift.detected.v1', {}, { unknownProperties: 'ignore' });
    assert.equal(compiledIds.filter((x) => x === id).length, 2, 'one more for the tolerant variant, then cached');
  });
});

describe('validateEventData', () => {
  it('accepts valid data', () => {
    assert.deepEqual(validateEventData('mlops.model.trained.v1', exampleEventData('mlops.model.trained.v1')), {
      ok: true,
    });
  });

  it('reports every issue, not just the first', () => {
    const data = exampleEventData('mlops.model.trained.v1') as unknown as Record<string, any>;
    data.artifact.sha256 = 'ABC';
    data.metrics.auc = 'high';
    data.lineage.featureView.version = 0;
    delete data.trainedAt;
    data.notInTheSchema = true;
    const issues = issuesOf(validateEventData('mlops.model.trained.v1', data));
    assert.deepEqual(brief(issues), [
      '/artifact/sha256 pattern',
      '/lineage/featureView/version minimum',
      '/metrics/auc type',
      '/notInTheSchema additionalProperties',
      '/trainedAt required',
    ]);
  });

  it('points required and additionalProperties issues at the property itself', () => {
    const issues = issuesOf(
      validateEventData('mlops.data.record.v1', { dataset: 'x', entityId: 'e', record: {}, 'a/b~c': 1 }),
    );
    assert.equal(issues.length, 1);
    assert.deepEqual(issues[0], {
      path: '/a~1b~0c',
      message: 'is not a property the schema allows',
      keyword: 'additionalProperties',
      params: { additionalProperty: 'a/b~c' },
    });
    const missing = issuesOf(validateEventData('mlops.data.record.v1', { dataset: 'x', record: {} }));
    assert.deepEqual(missing, [
      { path: '/entityId', message: 'is required', keyword: 'required', params: { missingProperty: 'entityId' } },
    ]);
  });

  it('names the offending key of a map', () => {
    const data = exampleEventData('mlops.features.materialized.v1');
    data.features['bad-name'] = 1;
    const issues = issuesOf(validateEventData('mlops.features.materialized.v1', data));
    assert.ok(
      issues.some(
        (i) => i.keyword === 'pattern' && i.params.propertyName === 'bad-name' && i.message.includes('"bad-name"'),
      ),
    );
  });

  it('checks formats (date-time, uri, uuid)', () => {
    const data = exampleEventData('mlops.dataset.snapshot.created.v1');
    data.createdAt = '2025-13-45T99:00:00Z';
    data.uri = 'not a uri';
    data.snapshotId = '1234';
    assert.deepEqual(brief(issuesOf(validateEventData('mlops.dataset.snapshot.created.v1', data))), [
      '/createdAt format',
      '/snapshotId format',
      '/uri format',
    ]);
  });

  it('rejects non-objects at the root', () => {
    for (const value of [null, 42, 'x', [], undefined]) {
      const issues = issuesOf(validateEventData('mlops.data.record.v1', value));
      assert.ok(
        issues.some((i) => i.path === '' && i.keyword === 'type'),
        JSON.stringify(value),
      );
    }
  });

  it('reports an unknown type as an issue instead of throwing', () => {
    const result = validateEventData('mlops.nope.v1' as never, {});
    assert.deepEqual(result, {
      ok: false,
      errors: [
        {
          path: '',
          message: 'unknown event type "mlops.nope.v1"',
          keyword: 'eventType',
          params: { type: 'mlops.nope.v1' },
        },
      ],
    });
  });

  it('ignores unknown properties at every depth only when asked (consumers), and nothing else', () => {
    const data = exampleEventData('mlops.model.promoted.v1') as unknown as Record<string, any>;
    data.canaryShare = 0.1;
    data.artifact.compression = 'none';
    assert.deepEqual(brief(issuesOf(validateEventData('mlops.model.promoted.v1', data))), [
      '/artifact/compression additionalProperties',
      '/canaryShare additionalProperties',
    ]);
    assert.deepEqual(validateEventData('mlops.model.promoted.v1', data, { unknownProperties: 'ignore' }), { ok: true });
    data.version = 'three';
    assert.deepEqual(
      brief(issuesOf(validateEventData('mlops.model.promoted.v1', data, { unknownProperties: 'ignore' }))),
      ['/version type'],
    );
  });

  it('applies conditional rules (a gate-triggered promotion needs a gate decision)', () => {
    const data = exampleEventData('mlops.model.promoted.v1');
    data.gate = null;
    assert.ok(
      issuesOf(validateEventData('mlops.model.promoted.v1', data)).some(
        (i) => i.path === '/gate' && i.keyword === 'type',
      ),
    );
    data.trigger = 'rollback';
    assert.deepEqual(validateEventData('mlops.model.promoted.v1', data), { ok: true });
  });
});

describe('assertEventData', () => {
  it('narrows valid data to its type', () => {
    const data: unknown = exampleEventData('mlops.model.promoted.v1');
    assertEventData('mlops.model.promoted.v1', data);
    const alias: string = data.alias; // compiles only because of the assertion
    assert.equal(alias, 'production');
  });

  it('throws an EventValidationError listing every issue', () => {
    const data = { dataset: 'Bad Name', record: [] };
    assert.throws(
      () => assertEventData('mlops.data.record.v1', data),
      (error: unknown) => {
        assert.ok(error instanceof EventValidationError);
        assert.ok(error instanceof Error);
        assert.equal(error.name, 'EventValidationError');
        assert.equal(error.type, 'mlops.data.record.v1');
        assert.deepEqual(brief(error.issues), ['/dataset pattern', '/entityId required', '/record type']);
        assert.match(error.message, /^invalid data for mlops\.data\.record\.v1 \(3 issues\): /);
        for (const part of ['/dataset must match pattern', '/entityId is required', '/record must be object'])
          assert.ok(error.message.includes(part), part);
        return true;
      },
    );
  });

  it('honours the tolerant mode too', () => {
    const data = { ...exampleEventData('mlops.data.quality.v1'), addedLater: 1 };
    assert.throws(() => assertEventData('mlops.data.quality.v1', data), EventValidationError);
    assert.doesNotThrow(() => assertEventData('mlops.data.quality.v1', data, { unknownProperties: 'ignore' }));
  });
});
