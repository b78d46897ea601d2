/**
 * Backward compatibility of two versions of a dataset's record schema, ported from the rules of
 * scripts/lib/schema-compat.mjs (Confluent's JSON Schema rules) for what record schemas use: a flat object
 * of scalar fields. The question is "does the NEW schema accept every record the OLD one accepted?"
 * (records already in topics, replays, upstream systems not yet upgraded). It fails closed: a change it
 * cannot prove compatible (two different patterns, an unmodelled keyword) is a violation.
 */
import { type JsonObject, deepEqual, escapePointer, isJsonObject, jsonTypeOf } from './json';

export interface CompatViolation {
  /** JSON Pointer into the new schema (or the old one for removed parts), e.g. "#/properties/plan". */
  path: string;
  /** Stable rule id, e.g. "required-added", "enum-narrowed". */
  rule: string;
  message: string;
}

const ANNOTATIONS = new Set([
  'title', 'description', 'examples', 'default', 'deprecated', 'readOnly', 'writeOnly', '$comment', '$schema', '$id', '$anchor',
  '$defs', 'definitions', 'contentMediaType', 'contentEncoding', 'contentSchema',
]);
const isAnnotation = (keyword: string): boolean => ANNOTATIONS.has(keyword) || keyword.startsWith('x-');

// Keywords compared by a rule below; any other validation keyword that changed fails closed.
const HANDLED = new Set([
  'type', 'enum', 'const', 'required', 'properties', 'additionalProperties', 'minimum', 'maximum', 'exclusiveMinimum',
  'exclusiveMaximum', 'multipleOf', 'minLength', 'maxLength', 'pattern', 'format',
]);

interface Context {
  path: string;
  violations: CompatViolation[];
}

const CONSEQUENCE = 'records accepted by the previous version would be refused';

/** Every reason `next` is not backward compatible with `previous`; empty when it is. */
export function backwardViolations(previous: unknown, next: unknown): CompatViolation[] {
  const violations: CompatViolation[] = [];
  check(next, previous, { path: '#', violations });
  return violations;
}

function report(ctx: Context, rule: string, change: string): void {
  ctx.violations.push({ path: ctx.path, rule, message: `${change}; ${CONSEQUENCE}` });
}

function at(ctx: Context, suffix: string): Context {
  return { ...ctx, path: `${ctx.path}/${suffix}` };
}

type Schema = JsonObject | false;

function normalise(schema: unknown): Schema {
  if (schema === false) return false;
  return isJsonObject(schema) ? schema : {};
}

function acceptsEverything(schema: JsonObject): boolean {
  return Object.keys(schema).every(isAnnotation);
}

/** Does `reader` (new) accept every instance `writer` (old) accepts? */
function check(readerRaw: unknown, writerRaw: unknown, ctx: Context): void {
  const reader = normalise(readerRaw);
  const writer = normalise(writerRaw);
  if (writer === false) return;
  if (reader === false) {
    report(ctx, 'schema-false', 'the schema became `false`');
    return;
  }
  if (acceptsEverything(reader)) return;
  checkTypes(reader, writer, ctx);
  checkEnum(reader, writer, ctx);
  checkNumericBounds(reader, writer, ctx);
  checkLengths(reader, writer, ctx);
  checkStringRules(reader, writer, ctx);
  checkObject(reader, writer, ctx);
  checkUnmodelled(reader, writer, ctx);
}

/** The JSON types a schema admits, or undefined for "any". */
export function typesOf(schema: JsonObject): Set<string> | undefined {
  const type = schema.type;
  if (typeof type === 'string') return new Set([type]);
  if (Array.isArray(type)) return new Set(type.filter((t): t is string => typeof t === 'string'));
  if ('const' in schema) return new Set([jsonTypeOf(schema.const)]);
  if (Array.isArray(schema.enum)) return new Set(schema.enum.map(jsonTypeOf));
  return undefined;
}

function typeAccepts(types: Set<string>, type: string): boolean {
  return types.has(type) || (type === 'integer' && types.has('number'));
}

function checkTypes(reader: JsonObject, writer: JsonObject, ctx: Context): void {
  const readerTypes = typesOf(reader);
  if (readerTypes === undefined) return;
  const writerTypes = typesOf(writer);
  const rejected = writerTypes === undefined ? ['any other type'] : [...writerTypes].filter((t) => !typeAccepts(readerTypes, t));
  if (rejected.length === 0) return;
  const before = writerTypes === undefined ? 'any' : JSON.stringify([...writerTypes]);
  report(ctx, 'type-narrowed', `type changed from ${before} to ${JSON.stringify([...readerTypes])} (${rejected.join(', ')} values fail the new schema)`);
}

function allowedValues(schema: JsonObject): unknown[] | undefined {
  if ('const' in schema) return [schema.const];
  return Array.isArray(schema.enum) ? schema.enum : undefined;
}

function checkEnum(reader: JsonObject, writer: JsonObject, ctx: Context): void {
  const readerValues = allowedValues(reader);
  if (readerValues === undefined) return;
  const writerValues = allowedValues(writer);
  if (writerValues === undefined) {
    report(ctx, 'enum-added', `an enum/const constraint ${JSON.stringify(readerValues)} was added`);
    return;
  }
  const missing = writerValues.filter((value) => !readerValues.some((allowed) => deepEqual(allowed, value)));
  if (missing.length > 0) report(ctx, 'enum-narrowed', `enum value(s) ${JSON.stringify(missing)} removed`);
}

interface Bound {
  value: number;
  exclusive: boolean;
  keyword: string;
}

function bound(schema: JsonObject, inclusive: string, exclusive: string, pick: (a: Bound, b: Bound) => number): Bound | undefined {
  const candidates: Bound[] = [];
  const inc = schema[inclusive];
  const exc = schema[exclusive];
  if (typeof inc === 'number') candidates.push({ value: inc, exclusive: false, keyword: inclusive });
  if (typeof exc === 'number') candidates.push({ value: exc, exclusive: true, keyword: exclusive });
  return candidates.sort(pick)[0];
}

const showBound = (b: Bound | undefined): string => (b === undefined ? 'none' : `${b.keyword} ${b.value}`);

function checkNumericBounds(reader: JsonObject, writer: JsonObject, ctx: Context): void {
  const lowestMax = (a: Bound, b: Bound): number => a.value - b.value || Number(b.exclusive) - Number(a.exclusive);
  const highestMin = (a: Bound, b: Bound): number => b.value - a.value || Number(b.exclusive) - Number(a.exclusive);
  const readerMax = bound(reader, 'maximum', 'exclusiveMaximum', lowestMax);
  const writerMax = bound(writer, 'maximum', 'exclusiveMaximum', lowestMax);
  if (readerMax && (!writerMax || writerMax.value > readerMax.value || (writerMax.value === readerMax.value && readerMax.exclusive && !writerMax.exclusive))) {
    report(ctx, 'maximum-tightened', `maximum tightened from ${showBound(writerMax)} to ${showBound(readerMax)}`);
  }
  const readerMin = bound(reader, 'minimum', 'exclusiveMinimum', highestMin);
  const writerMin = bound(writer, 'minimum', 'exclusiveMinimum', highestMin);
  if (readerMin && (!writerMin || writerMin.value < readerMin.value || (writerMin.value === readerMin.value && readerMin.exclusive && !writerMin.exclusive))) {
    report(ctx, 'minimum-tightened', `minimum tightened from ${showBound(writerMin)} to ${showBound(readerMin)}`);
  }
  if (typeof reader.multipleOf === 'number') {
    const ratio = typeof writer.multipleOf === 'number' ? writer.multipleOf / reader.multipleOf : NaN;
    if (!Number.isInteger(Math.round(ratio * 1e9) / 1e9)) {
      report(ctx, 'multipleOf-tightened', `multipleOf changed from ${JSON.stringify(writer.multipleOf ?? null)} to ${reader.multipleOf}`);
    }
  }
}

function checkLengths(reader: JsonObject, writer: JsonObject, ctx: Context): void {
  if (typeof reader.maxLength === 'number') {
    const writerValue = typeof writer.maxLength === 'number' ? writer.maxLength : Infinity;
    if (writerValue > reader.maxLength) report(ctx, 'maxLength-tightened', `maxLength tightened from ${writer.maxLength ?? 'none'} to ${reader.maxLength}`);
  }
  if (typeof reader.minLength === 'number') {
    const writerValue = typeof writer.minLength === 'number' ? writer.minLength : 0;
    if (writerValue < reader.minLength) report(ctx, 'minLength-tightened', `minLength tightened from ${writer.minLength ?? 'none'} to ${reader.minLength}`);
  }
}

function checkStringRules(reader: JsonObject, writer: JsonObject, ctx: Context): void {
  for (const keyword of ['pattern', 'format'] as const) {
    if (reader[keyword] === undefined || reader[keyword] === writer[keyword]) continue;
    const before = writer[keyword];
    const rule = before === undefined ? `${keyword}-added` : `${keyword}-changed`;
    report(ctx, rule, `${keyword} changed from ${before === undefined ? 'none' : JSON.stringify(before)} to ${JSON.stringify(reader[keyword])} (a different ${keyword} cannot be proven to accept the same strings)`);
  }
}

const propertiesOf = (schema: JsonObject): JsonObject => (isJsonObject(schema.properties) ? schema.properties : {});
const requiredOf = (schema: JsonObject): string[] => (Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : []);
const isClosed = (schema: JsonObject): boolean => schema.additionalProperties === false;

function checkObject(reader: JsonObject, writer: JsonObject, ctx: Context): void {
  const readerProps = propertiesOf(reader);
  const writerProps = propertiesOf(writer);
  for (const name of requiredOf(reader)) {
    if (!requiredOf(writer).includes(name)) {
      report(at(ctx, `properties/${escapePointer(name)}`), 'required-added', `field "${name}" became required (records accepted before may lack it)`);
    }
  }
  for (const [name, writerProp] of Object.entries(writerProps)) {
    const sub = at(ctx, `properties/${escapePointer(name)}`);
    if (name in readerProps) check(readerProps[name], writerProp, sub);
    else if (isClosed(reader)) report(sub, 'property-removed', `field "${name}" was removed while additionalProperties is false (records accepted before may carry it)`);
    else if (reader.additionalProperties !== undefined && reader.additionalProperties !== true) check(reader.additionalProperties, writerProp, { ...sub, path: `${ctx.path}/additionalProperties` });
  }
  for (const [name, readerProp] of Object.entries(readerProps)) {
    if (name in writerProps || isClosed(writer)) continue;
    const sub = at(ctx, `properties/${escapePointer(name)}`);
    if (writer.additionalProperties !== undefined && writer.additionalProperties !== true) check(readerProp, writer.additionalProperties, sub);
    else {
      const normal = normalise(readerProp);
      if (normal === false || !acceptsEverything(normal)) {
        report(sub, 'open-property-constrained', `field "${name}" was added to an open record schema (additionalProperties not false): records accepted before may carry "${name}" with any value`);
      }
    }
  }
  const readerAdditional = reader.additionalProperties;
  if (readerAdditional !== undefined && readerAdditional !== true && !isClosed(writer)) {
    const writerAdditional = writer.additionalProperties;
    const sub = at(ctx, 'additionalProperties');
    if (readerAdditional === false || writerAdditional === undefined || writerAdditional === true) {
      const show = (v: unknown): string => (v === undefined ? 'absent (true)' : typeof v === 'boolean' ? String(v) : 'a schema');
      report(sub, 'additional-properties-narrowed', `additionalProperties changed from ${show(writerAdditional)} to ${show(readerAdditional)}`);
    } else check(readerAdditional, writerAdditional, sub);
  }
}

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (!isJsonObject(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => !isAnnotation(k)).map(([k, v]) => [k, strip(v)]));
}

function checkUnmodelled(reader: JsonObject, writer: JsonObject, ctx: Context): void {
  const keywords = new Set([...Object.keys(reader), ...Object.keys(writer)]);
  for (const keyword of [...keywords].sort()) {
    if (HANDLED.has(keyword) || isAnnotation(keyword)) continue;
    if (deepEqual(strip(reader[keyword]), strip(writer[keyword]))) continue;
    ctx.violations.push({
      path: `${ctx.path}/${escapePointer(keyword)}`,
      rule: 'unsupported-change',
      message: `"${keyword}" changed and this check cannot prove the change compatible; review it: ${CONSEQUENCE.replace('would', 'may')}`,
    });
  }
}
