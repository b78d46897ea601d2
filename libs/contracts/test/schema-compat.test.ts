// src/schema-compat.ts on event schemas: one test per rule, on planted changes, plus the changes it must allow.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  type CompatibilityMode,
  type SchemaViolation,
  EVENT_TYPES,
  compareSchemaSets,
  compareSchemas,
  schemaOf,
} from '../src';

type Schema = Record<string, any>;

/** A small closed event schema with the shapes the rules care about. */
function baseSchema(): Schema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://schemas.mlops.dev/events/mlops.test.thing.v1.json',
    title: 'Thing',
    description: 'A test event.',
    type: 'object',
    additionalProperties: false,
    required: ['id', 'status', 'score'],
    'x-partition-key': ['id'],
    properties: {
      id: { type: 'string', maxLength: 64, description: 'id' },
      status: { enum: ['active', 'retired'] },
      score: { type: 'number', minimum: 0, maximum: 1 },
      count: { type: 'integer' },
      note: { type: ['string', 'null'] },
      labels: { type: 'object', additionalProperties: true },
      tags: { type: 'array', items: { type: 'string', pattern: '^[a-z]+$' } },
      histogram: { $ref: '#/$defs/histogram' },
    },
    $defs: {
      histogram: {
        type: 'object',
        additionalProperties: false,
        required: ['counts'],
        properties: { counts: { type: 'array', items: { type: 'integer', minimum: 0 } } },
      },
    },
  };
}

function changed(mutate: (schema: Schema) => void): Schema {
  const schema = baseSchema();
  mutate(schema);
  return schema;
}

function compare(mutate: (schema: Schema) => void, mode: CompatibilityMode = 'backward'): SchemaViolation[] {
  return compareSchemas(baseSchema(), changed(mutate), { mode });
}

function assertOneViolation(violations: SchemaViolation[], rule: string, path: string): SchemaViolation {
  assert.equal(violations.length, 1, JSON.stringify(violations, null, 2));
  const [violation] = violations as [SchemaViolation];
  assert.equal(violation.rule, rule);
  assert.equal(violation.path, path);
  return violation;
}

describe('backward compatibility (the default: new readers, old data)', () => {
  it('passes an unchanged schema', () => {
    assert.deepEqual(
      compare(() => {}),
      [],
    );
  });

  it('breaks on an added required property', () => {
    const v = assertOneViolation(
      compare((s) => {
        s.properties.owner = { type: 'string' };
        s.required.push('owner');
      }),
      'required-added',
      '#/properties/owner',
    );
    assert.equal(v.dataPath, '$.owner');
    assert.equal(v.direction, 'backward');
    assert.match(v.message, /"owner" became required/);
  });

  it('breaks on making an existing optional property required', () => {
    assertOneViolation(
      compare((s) => s.required.push('count')),
      'required-added',
      '#/properties/count',
    );
  });

  it('breaks on a removed property in a closed object', () => {
    const v = assertOneViolation(
      compare((s) => delete s.properties.count),
      'property-removed',
      '#/properties/count',
    );
    assert.match(v.message, /"count" was removed while additionalProperties is false/);
  });

  it('breaks on a narrowed type', () => {
    assertOneViolation(
      compare((s) => (s.properties.score.type = 'integer')),
      'type-narrowed',
      '#/properties/score',
    );
    assertOneViolation(
      compare((s) => (s.properties.note.type = 'string')),
      'type-narrowed',
      '#/properties/note',
    );
    assertOneViolation(
      compare((s) => (s.properties.count.type = 'string')),
      'type-narrowed',
      '#/properties/count',
    );
  });

  it('breaks on a removed enum value', () => {
    const v = assertOneViolation(
      compare((s) => (s.properties.status.enum = ['active'])),
      'enum-narrowed',
      '#/properties/status',
    );
    assert.match(v.message, /"retired"/);
  });

  it('breaks on an enum or const constraint added where there was none', () => {
    assertOneViolation(
      compare((s) => (s.properties.id.enum = ['a', 'b'])),
      'enum-added',
      '#/properties/id',
    );
    assertOneViolation(
      compare((s) => (s.properties.count.const = 1)),
      'enum-added',
      '#/properties/count',
    );
  });

  it('breaks on a tightened maxLength, and on one added where there was none', () => {
    const v = assertOneViolation(
      compare((s) => (s.properties.id.maxLength = 32)),
      'maxLength-tightened',
      '#/properties/id',
    );
    assert.match(v.message, /maxLength tightened from 64 to 32/);
    assertOneViolation(
      compare((s) => (s.properties.note.maxLength = 10)),
      'maxLength-tightened',
      '#/properties/note',
    );
  });

  it('breaks on tightened numeric bounds, minLength, minItems and multipleOf', () => {
    assertOneViolation(
      compare((s) => (s.properties.score.maximum = 0.5)),
      'maximum-tightened',
      '#/properties/score',
    );
    assertOneViolation(
      compare((s) => (s.properties.score.exclusiveMinimum = 0)),
      'minimum-tightened',
      '#/properties/score',
    );
    assertOneViolation(
      compare((s) => (s.properties.id.minLength = 3)),
      'minLength-tightened',
      '#/properties/id',
    );
    assertOneViolation(
      compare((s) => (s.properties.tags.minItems = 1)),
      'minItems-tightened',
      '#/properties/tags',
    );
    assertOneViolation(
      compare((s) => (s.properties.count.multipleOf = 2)),
      'multipleOf-tightened',
      '#/properties/count',
    );
    assertOneViolation(
      compare((s) => (s.properties.tags.uniqueItems = true)),
      'uniqueItems-added',
      '#/properties/tags',
    );
  });

  it('breaks on an added or changed pattern or format', () => {
    assertOneViolation(
      compare((s) => (s.properties.id.pattern = '^[a-z]+$')),
      'pattern-added',
      '#/properties/id',
    );
    assertOneViolation(
      compare((s) => (s.properties.tags.items.pattern = '^[a-z0-9]+$')),
      'pattern-changed',
      '#/properties/tags/items',
    );
    assertOneViolation(
      compare((s) => (s.properties.id.format = 'uuid')),
      'format-added',
      '#/properties/id',
    );
  });

  it('breaks on additionalProperties true -> false', () => {
    const v = assertOneViolation(
      compare((s) => (s.properties.labels.additionalProperties = false)),
      'additional-properties-narrowed',
      '#/properties/labels/additionalProperties',
    );
    assert.equal(v.dataPath, '$.labels.*');
    assert.match(v.message, /from true to false/);
    assertOneViolation(
      compare((s) => (s.properties.labels.additionalProperties = { type: 'string' })),
      'additional-properties-narrowed',
      '#/properties/labels/additionalProperties',
    );
  });

  it('breaks on a constrained property added to an open object (old data may carry it with any value)', () => {
    assertOneViolation(
      compare((s) => (s.properties.labels.properties = { team: { type: 'string' } })),
      'open-property-constrained',
      '#/properties/labels/properties/team',
    );
  });

  it('recurses into items, $defs behind $ref, and nested objects', () => {
    const v = assertOneViolation(
      compare((s) => (s.$defs.histogram.properties.counts.items.maximum = 1000)),
      'maximum-tightened',
      '#/$defs/histogram/properties/counts/items',
    );
    assert.equal(v.dataPath, '$.histogram.counts[*]');
    assertOneViolation(
      compare((s) => s.$defs.histogram.required.push('total')),
      'required-added',
      '#/$defs/histogram/properties/total',
    );
  });

  it('breaks on a removed oneOf alternative', () => {
    const withUnion = (s: Schema) => {
      s.properties.value = {
        oneOf: [
          { type: 'object', required: ['kind'], properties: { kind: { const: 'a' } } },
          { type: 'object', required: ['kind'], properties: { kind: { const: 'b' } } },
        ],
      };
    };
    const old = changed(withUnion);
    const narrowed = changed((s) => {
      withUnion(s);
      s.properties.value.oneOf.pop();
    });
    const violations = compareSchemas(old, narrowed);
    assert.equal(violations.length, 1, JSON.stringify(violations));
    assert.equal(violations[0]?.rule, 'oneOf-narrowed');
    assert.equal(violations[0]?.path, '#/properties/value/oneOf');
    assert.match(
      violations[0]?.message ?? '',
      /alternative 1 of the old schema is accepted by no alternative of the new schema/,
    );
    assert.deepEqual(compareSchemas(narrowed, old), [], 'adding a discriminated alternative is fine');
  });

  it('breaks on an added oneOf alternative that may overlap the others', () => {
    const old = changed((s) => (s.properties.value = { oneOf: [{ type: 'string' }, { type: 'integer' }] }));
    const overlapping = changed(
      (s) => (s.properties.value = { oneOf: [{ type: 'string' }, { type: 'integer' }, { type: 'number' }] }),
    );
    const violations = compareSchemas(old, overlapping);
    assert.deepEqual(
      violations.map((v) => `${v.rule} ${v.path}`),
      ['oneOf-overlap #/properties/value/oneOf'],
    );
    const anyOf = changed(
      (s) => (s.properties.value = { anyOf: [{ type: 'string' }, { type: 'integer' }, { type: 'number' }] }),
    );
    const anyOfOld = changed((s) => (s.properties.value = { anyOf: [{ type: 'string' }, { type: 'integer' }] }));
    assert.deepEqual(compareSchemas(anyOfOld, anyOf), [], 'anyOf alternatives may overlap');
  });

  it('fails closed on keywords it cannot reason about', () => {
    const violations = compare((s) => {
      s.if = { properties: { status: { const: 'retired' } } };
      s.then = { required: ['note'] };
    });
    assert.deepEqual(
      violations.map((v) => `${v.rule} ${v.path}`),
      ['unsupported-change #/if', 'unsupported-change #/then'],
    );
    assert.ok(violations.every((v) => /review it/.test(v.message)));
    const unchanged = changed((s) => {
      s.if = { properties: { status: { const: 'retired' } } };
      s.then = { required: ['note'] };
    });
    const reworded = structuredClone(unchanged);
    reworded.then.description = 'Retired things say why.';
    assert.deepEqual(compareSchemas(unchanged, reworded, { mode: 'full' }), [], 'annotations inside are not changes');
  });

  it('breaks on a changed $id or partition key, in every mode', () => {
    for (const mode of ['backward', 'forward', 'full'] as const) {
      assertOneViolation(
        compare((s) => (s['x-partition-key'] = ['status']), mode),
        'partition-key-changed',
        '#/x-partition-key',
      );
      assertOneViolation(
        compare((s) => (s.$id = 'https://schemas.mlops.dev/events/other.json'), mode),
        'id-changed',
        '#/$id',
      );
    }
  });

  it('reports every violation of a multi-part change', () => {
    const violations = compare((s) => {
      s.required.push('count');
      s.properties.status.enum = ['active'];
      s.properties.id.maxLength = 8;
      delete s.properties.note;
    });
    assert.deepEqual(violations.map((v) => v.rule).sort(), [
      'enum-narrowed',
      'maxLength-tightened',
      'property-removed',
      'required-added',
    ]);
  });
});

describe('changes backward compatibility allows', () => {
  const allowed: Record<string, (s: Schema) => void> = {
    'an added optional property (closed object)': (s) => (s.properties.region = { type: 'string' }),
    'a widened type (integer -> number)': (s) => (s.properties.count.type = 'number'),
    'a widened type (string -> string|null)': (s) => (s.properties.id.type = ['string', 'null']),
    'an added enum value': (s) => s.properties.status.enum.push('archived'),
    'a loosened maxLength': (s) => (s.properties.id.maxLength = 128),
    'a removed maxLength': (s) => delete s.properties.id.maxLength,
    'a loosened maximum': (s) => (s.properties.score.maximum = 2),
    'a removed pattern': (s) => delete s.properties.tags.items.pattern,
    'a property no longer required': (s) => (s.required = ['id', 'status']),
    'additionalProperties false -> true': (s) => (s.additionalProperties = true),
    'documentation and examples only': (s) => {
      s.description = 'Reworded.';
      s.properties.id.description = 'Reworded.';
      s.examples = [{ id: 'a', status: 'active', score: 0.5 }];
      s['x-invalid-examples'] = [];
    },
    'a renamed $def': (s) => {
      s.$defs.hist = s.$defs.histogram;
      delete s.$defs.histogram;
      s.properties.histogram.$ref = '#/$defs/hist';
    },
  };
  for (const [name, mutate] of Object.entries(allowed)) {
    it(`allows ${name}`, () => assert.deepEqual(compare(mutate), []));
  }
});

describe('forward and full modes (old readers, new data)', () => {
  it('flags an added optional property in a closed object as forward-incompatible only', () => {
    const mutate = (s: Schema) => (s.properties.region = { type: 'string' });
    assert.deepEqual(compare(mutate, 'backward'), []);
    const v = assertOneViolation(compare(mutate, 'forward'), 'property-added', '#/properties/region');
    assert.equal(v.direction, 'forward');
    assert.equal(compare(mutate, 'full').length, 1);
  });

  it('flags widening as forward-incompatible and narrowing as backward-incompatible', () => {
    assertOneViolation(
      compare((s) => (s.properties.count.type = 'number'), 'forward'),
      'type-widened',
      '#/properties/count',
    );
    assertOneViolation(
      compare((s) => s.properties.status.enum.push('archived'), 'forward'),
      'enum-widened',
      '#/properties/status',
    );
    assertOneViolation(
      compare((s) => (s.required = ['id', 'status']), 'forward'),
      'required-removed',
      '#/properties/score',
    );
    assert.deepEqual(
      compare((s) => (s.properties.status.enum = ['active']), 'forward'),
      [],
    );
  });

  it('full mode reports both directions', () => {
    const violations = compare((s) => {
      s.properties.count.type = 'number';
      s.properties.status.enum = ['active'];
    }, 'full');
    assert.deepEqual(violations.map((v) => `${v.direction}:${v.rule}`).sort(), [
      'backward:enum-narrowed',
      'forward:type-widened',
    ]);
  });

  it('rejects an unknown mode', () => {
    assert.throws(
      () => compareSchemas({}, {}, { mode: 'sideways' as CompatibilityMode }),
      /unknown compatibility mode/,
    );
  });
});

describe('compareSchemaSets', () => {
  it('flags a deleted schema file and accepts new ones', () => {
    const old = new Map<string, unknown>([
      ['a.v1.json', baseSchema()],
      ['b.v1.json', baseSchema()],
    ]);
    const current = new Map<string, unknown>([
      ['a.v1.json', baseSchema()],
      ['c.v1.json', baseSchema()],
    ]);
    const results = compareSchemaSets(old, current);
    assert.deepEqual(
      results.map((r) => [r.file, r.violations.map((v) => v.rule)]),
      [['b.v1.json', ['schema-deleted']]],
    );
  });

  it('allows deleting a schema that the base version marked deprecated', () => {
    const old = new Map<string, unknown>([['a.v1.json', { ...baseSchema(), deprecated: true }]]);
    assert.deepEqual(compareSchemaSets(old, new Map()), []);
  });

  it('reports changed files with their violations, sorted by file name', () => {
    const old = new Map<string, unknown>([
      ['b.v1.json', baseSchema()],
      ['a.v1.json', baseSchema()],
    ]);
    const narrowed = changed((s) => (s.properties.status.enum = ['active']));
    const current = new Map<string, unknown>([
      ['b.v1.json', narrowed],
      ['a.v1.json', narrowed],
    ]);
    assert.deepEqual(
      compareSchemaSets(old, current).map((r) => r.file),
      ['a.v1.json', 'b.v1.json'],
    );
  });
});

describe('the catalog itself', () => {
  it('every schema is fully compatible with itself (no false positives on real schemas)', () => {
    for (const type of EVENT_TYPES) {
      const schema = structuredClone(schemaOf(type));
      assert.deepEqual(compareSchemas(schema, structuredClone(schema), { mode: 'full' }), [], type);
    }
  });

  it('allows adding an optional property to every catalog schema, and catches making it required', () => {
    for (const type of EVENT_TYPES) {
      const old = structuredClone(schemaOf(type)) as Schema;
      const added = structuredClone(old);
      added.properties.addedLater = { type: 'string', description: 'New optional field.' };
      assert.deepEqual(compareSchemas(old, added), [], type);
      added.required = [...added.required, 'addedLater'];
      assert.deepEqual(
        compareSchemas(old, added).map((v) => v.rule),
        ['required-added'],
        type,
      );
    }
  });

  it('catches a tightened constraint deep inside model.trained (histogram behind $ref, oneOf, map)', () => {
    const old = structuredClone(schemaOf('mlops.model.trained.v1')) as Schema;
    const tightened = structuredClone(old);
    tightened.$defs.numericHistogram.properties.binEdges.minItems = 3;
    const violations = compareSchemas(old, tightened);
    assert.ok(violations.length >= 1);
    assert.ok(
      violations.every(
        (v) => v.rule === 'minItems-tightened' && v.path === '#/$defs/numericHistogram/properties/binEdges',
      ),
      JSON.stringify(violations),
    );
    assert.deepEqual(violations.map((v) => v.dataPath).sort(), [
      '$.predictionDistribution.binEdges',
      '$.referenceDistributions.*.binEdges',
    ]);
  });
});
