// src/schema-compat.ts on what ingestion gives it: a dataset's record schema (a flat object of scalar fields)
// against its previous version. The new schema must accept every record the old one accepted.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compatibilityViolations, declaredTypes } from '../src';

const base = {
  type: 'object',
  required: ['id', 'at'],
  properties: {
    id: { type: 'string' },
    at: { type: 'string', format: 'date-time' },
    plan: { enum: ['basic', 'premium'] },
    spend: { type: ['number', 'null'], minimum: 0, maximum: 100 },
    code: { type: 'string', maxLength: 8, pattern: '^[A-Z]+$' },
    n: { type: 'integer' },
  },
  additionalProperties: false,
};
type Props = Record<string, unknown>;
const withProps = (props: Props, extra: Props = {}) => ({
  ...base,
  ...extra,
  properties: { ...base.properties, ...props },
});
const rules = (next: unknown, previous: unknown = base) =>
  compatibilityViolations(previous, next).map((v) => `${v.rule} ${v.path}`);

describe('record schema backward compatibility (new schema must accept every record the old one accepted)', () => {
  test('identical, annotated, or widened schemas are compatible', () => {
    assert.deepEqual(rules(base), []);
    assert.deepEqual(rules(withProps({ id: { type: 'string', description: 'the id', title: 'Id' } })), []);
    assert.deepEqual(
      rules(withProps({ country: { type: 'string' } })),
      [],
      'an optional field added to a closed schema',
    );
    assert.deepEqual(rules(withProps({ plan: { enum: ['basic', 'premium', 'gold'] } })), [], 'an enum value added');
    assert.deepEqual(rules(withProps({ n: { type: 'number' } })), [], 'integer -> number');
    assert.deepEqual(rules(withProps({ id: { type: ['string', 'null'] } })), [], 'nullable');
    assert.deepEqual(rules(withProps({ spend: { type: ['number', 'null'], minimum: -10 } })), [], 'looser bounds');
    assert.deepEqual(rules({ ...base, required: ['id'] }), [], 'a field no longer required');
    assert.deepEqual(rules({ ...base, additionalProperties: true }), [], 'opened');
  });

  test('each narrowing is reported with its rule and where', () => {
    assert.deepEqual(rules({ ...base, required: ['id', 'at', 'n'] }), ['required-added #/properties/n']);
    const { n: _n, ...withoutN } = base.properties;
    assert.deepEqual(rules({ ...base, properties: withoutN }), ['property-removed #/properties/n']);
    assert.deepEqual(rules(withProps({ n: { type: 'string' } })), ['type-narrowed #/properties/n']);
    assert.deepEqual(rules(withProps({ spend: { type: 'number', minimum: 0, maximum: 100 } })), [
      'type-narrowed #/properties/spend',
    ]);
    assert.deepEqual(rules(withProps({ plan: { enum: ['basic'] } })), ['enum-narrowed #/properties/plan']);
    assert.deepEqual(rules(withProps({ n: { type: 'integer', enum: [1, 2] } })), ['enum-added #/properties/n']);
    assert.deepEqual(rules(withProps({ spend: { type: ['number', 'null'], minimum: 0, maximum: 50 } })), [
      'maximum-tightened #/properties/spend',
    ]);
    assert.deepEqual(rules(withProps({ spend: { type: ['number', 'null'], exclusiveMinimum: 0, maximum: 100 } })), [
      'minimum-tightened #/properties/spend',
    ]);
    assert.deepEqual(rules(withProps({ code: { type: 'string', maxLength: 4, pattern: '^[A-Z]+$' } })), [
      'maxLength-tightened #/properties/code',
    ]);
    assert.deepEqual(rules(withProps({ code: { type: 'string', maxLength: 8, pattern: '^[A-Z0-9]+$' } })), [
      'pattern-changed #/properties/code',
    ]);
    assert.deepEqual(rules(withProps({ id: { type: 'string', format: 'uuid' } })), ['format-added #/properties/id']);
  });

  test('open schemas: a constrained field added may clash with what records already carried', () => {
    const open = { ...base, additionalProperties: true };
    assert.deepEqual(rules({ ...open, properties: { ...open.properties, extra: { type: 'string' } } }, open), [
      'open-property-constrained #/properties/extra',
    ]);
    assert.deepEqual(rules(base, open), ['additional-properties-narrowed #/additionalProperties']);
  });

  test('fails closed on a keyword it does not model', () => {
    const violations = compatibilityViolations(base, {
      ...base,
      if: { required: ['n'] },
      then: { required: ['plan'] },
    });
    assert.deepEqual(
      violations.map((v) => v.rule),
      ['unsupported-change', 'unsupported-change'],
    );
    assert.match(violations[0]!.message, /cannot prove the change compatible/);
  });

  test('$id and x-partition-key are annotations here: only compareSchemas treats them as the identity of an event type', () => {
    assert.deepEqual(
      rules(
        { ...base, $id: 'https://example.com/records/v2.json', 'x-partition-key': ['n'] },
        { ...base, $id: 'https://example.com/records/v1.json' },
      ),
      [],
    );
  });
});

describe('declaredTypes (what a field declares with type, const or enum)', () => {
  test('reads type, const and enum, and nothing deeper', () => {
    assert.deepEqual(declaredTypes({ type: 'string' }), new Set(['string']));
    assert.deepEqual(declaredTypes({ type: ['number', 'null', 7] }), new Set(['number', 'null']));
    assert.deepEqual(declaredTypes({ const: 3 }), new Set(['integer']));
    assert.deepEqual(declaredTypes({ enum: ['a', 1.5, null] }), new Set(['string', 'number', 'null']));
    assert.equal(declaredTypes({ anyOf: [{ type: 'string' }, { type: 'null' }] }), undefined);
    assert.equal(declaredTypes({ description: 'anything' }), undefined);
  });
});
