/**
 * Compatibility of two versions of one JSON Schema (2020-12), after Confluent Schema Registry's JSON Schema
 * rules. Pure: no I/O. Used by scripts/check-schema-compat.mjs (event schemas against git) and by ingestion
 * (a dataset's new record schema against its previous version).
 *
 * The question is always "does the READER schema accept every instance the WRITER schema accepts?".
 *   backward: reader = new schema, writer = old schema. New consumers must read old data (retained topics,
 *             replays, DLQ re-drives, producers not yet upgraded). Default.
 *   forward:  reader = old schema, writer = new schema. Old consumers must read new data.
 *   full:     both.
 * When the answer cannot be proven (an unmodelled keyword changed, two regexes differ) it is "no": the check
 * fails closed and the change needs a new major version or a reviewer's judgement.
 */

export type CompatibilityMode = 'backward' | 'forward' | 'full';
/** Which readers break: backward = new readers of old data; forward = old readers of new data. */
export type ViolationDirection = 'backward' | 'forward' | 'both';

export interface SchemaViolation {
  /** JSON Pointer into the schema (new version, or old for removed parts), e.g. "#/properties/artifact/properties/sha256". */
  path: string;
  /** Where in the data it applies, e.g. "$.artifact.sha256". */
  dataPath: string;
  /** Stable rule id, e.g. "required-added", "enum-narrowed". */
  rule: string;
  direction: ViolationDirection;
  /** What changed and why it breaks. */
  message: string;
}

export interface CompatibilityOptions {
  mode?: CompatibilityMode;
}

export const COMPATIBILITY_MODES: readonly CompatibilityMode[] = ['backward', 'forward', 'full'];

type SchemaObject = { [keyword: string]: unknown };
type Schema = SchemaObject | false;

const ANNOTATIONS = new Set([
  'title',
  'description',
  'examples',
  'default',
  'deprecated',
  'readOnly',
  'writeOnly',
  '$comment',
  '$schema',
  '$id',
  '$anchor',
  '$defs',
  'definitions',
  'contentMediaType',
  'contentEncoding',
  'contentSchema',
]);
const isAnnotation = (keyword: string): boolean => ANNOTATIONS.has(keyword) || keyword.startsWith('x-');

// Keywords compared by a dedicated rule below; any other validation keyword that changed fails closed.
const HANDLED = new Set([
  '$ref',
  'type',
  'enum',
  'const',
  'required',
  'properties',
  'patternProperties',
  'additionalProperties',
  'propertyNames',
  'items',
  'prefixItems',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'uniqueItems',
  'pattern',
  'format',
  'anyOf',
  'oneOf',
  'allOf',
]);
const UPPER_BOUNDS = ['maxLength', 'maxItems', 'maxProperties'] as const;
const LOWER_BOUNDS = ['minLength', 'minItems', 'minProperties'] as const;

/**
 * Violations that make an event schema `newSchema` incompatible with `oldSchema` under the mode: the content
 * rules of `compatibilityViolations`, plus the identity of the event type ($id, x-partition-key), in every mode.
 */
export function compareSchemas(
  oldSchema: unknown,
  newSchema: unknown,
  options: CompatibilityOptions = {},
): SchemaViolation[] {
  const mode = modeOf(options);
  const violations: SchemaViolation[] = [];
  if (isObject(oldSchema) && isObject(newSchema)) {
    if (oldSchema.$id !== newSchema.$id) {
      violations.push(
        violation(
          '#/$id',
          '$',
          'id-changed',
          'both',
          `$id changed from ${show(oldSchema.$id)} to ${show(newSchema.$id)}: it is the CloudEvents dataschema consumers key on`,
        ),
      );
    }
    if (!deepEqual(oldSchema['x-partition-key'], newSchema['x-partition-key'])) {
      violations.push(
        violation(
          '#/x-partition-key',
          '$',
          'partition-key-changed',
          'both',
          `x-partition-key changed from ${show(oldSchema['x-partition-key'])} to ${show(newSchema['x-partition-key'])}: per-key ordering and compaction would break`,
        ),
      );
    }
  }
  violations.push(...compatibilityViolations(oldSchema, newSchema, { mode }));
  return violations;
}

/** Violations of the content rules only: whether readers of one version accept the data of the other. */
export function compatibilityViolations(
  oldSchema: unknown,
  newSchema: unknown,
  options: CompatibilityOptions = {},
): SchemaViolation[] {
  const mode = modeOf(options);
  const violations: SchemaViolation[] = [];
  if (mode === 'backward' || mode === 'full') {
    check(newSchema, oldSchema, rootContext('backward', newSchema, oldSchema, violations));
  }
  if (mode === 'forward' || mode === 'full') {
    check(oldSchema, newSchema, rootContext('forward', oldSchema, newSchema, violations));
  }
  return violations;
}

/**
 * Compares whole schema sets (file name -> schema). A file that existed before and is gone is a violation:
 * its event type may still be produced or sitting in a topic. New files are fine. To retire a type, first
 * commit its schema with top-level `"deprecated": true`; deleting a schema deprecated in the base is allowed.
 * Returns only the files with violations, sorted by name.
 */
export function compareSchemaSets(
  oldByFile: ReadonlyMap<string, unknown>,
  newByFile: ReadonlyMap<string, unknown>,
  options: CompatibilityOptions = {},
): { file: string; violations: SchemaViolation[] }[] {
  const results: { file: string; violations: SchemaViolation[] }[] = [];
  for (const file of [...oldByFile.keys()].sort()) {
    const oldSchema = oldByFile.get(file);
    if (!newByFile.has(file)) {
      if (isObject(oldSchema) && oldSchema.deprecated === true) continue;
      results.push({
        file,
        violations: [
          violation(
            '#',
            '$',
            'schema-deleted',
            'both',
            'the schema of a published event type was deleted (or renamed); mark it "deprecated": true first and delete it once no producer emits the type and its topic retention has passed',
          ),
        ],
      });
      continue;
    }
    const violations = compareSchemas(oldSchema, newByFile.get(file), options);
    if (violations.length > 0) results.push({ file, violations });
  }
  return results;
}

/** "new readers would reject old data" / "old readers would reject new data" */
export function consequenceOf(direction: ViolationDirection): string {
  if (direction === 'backward') return 'consumers on the new schema would reject data written with the old one';
  if (direction === 'forward') return 'consumers still on the old schema would reject data written with the new one';
  return 'consumers of either version are affected';
}

/** The JSON types a schema declares at this level with type, const or enum; undefined when it declares none. */
export function declaredTypes(schema: { readonly [keyword: string]: unknown }): Set<string> | undefined {
  const type = schema.type;
  if (typeof type === 'string') return new Set([type]);
  if (Array.isArray(type)) return new Set(type.filter((t): t is string => typeof t === 'string'));
  if ('const' in schema) return new Set([jsonTypeOf(schema.const)]);
  if (Array.isArray(schema.enum)) return new Set(schema.enum.map(jsonTypeOf));
  return undefined;
}

// ---------------------------------------------------------------------------------------------------

type Direction = 'backward' | 'forward';

interface Context {
  direction: Direction;
  readerRoot: unknown;
  writerRoot: unknown;
  violations: SchemaViolation[];
  path: string;
  dataPath: string;
  seen: Set<string>;
}

function modeOf(options: CompatibilityOptions): CompatibilityMode {
  const mode = options.mode ?? 'backward';
  if (!COMPATIBILITY_MODES.includes(mode)) throw new TypeError(`unknown compatibility mode "${String(mode)}"`);
  return mode;
}

function rootContext(
  direction: Direction,
  readerRoot: unknown,
  writerRoot: unknown,
  violations: SchemaViolation[],
): Context {
  return { direction, readerRoot, writerRoot, violations, path: '#', dataPath: '$', seen: new Set() };
}

function child(ctx: Context, pathSuffix: string, dataSuffix?: string): Context {
  return {
    ...ctx,
    path: `${ctx.path}/${pathSuffix}`,
    dataPath: dataSuffix === undefined ? ctx.dataPath : `${ctx.dataPath}${dataSuffix}`,
  };
}

function violation(
  path: string,
  dataPath: string,
  rule: string,
  direction: ViolationDirection,
  message: string,
): SchemaViolation {
  return { path, dataPath, rule, direction, message };
}

/** Records a violation; `change` describes it as old -> new, so messages read the same in both directions. */
function report(ctx: Context, rule: string, change: string, certain = true): void {
  const consequence = certain
    ? consequenceOf(ctx.direction)
    : `review it: ${consequenceOf(ctx.direction).replace(' would ', ' may ')}`;
  ctx.violations.push(violation(ctx.path, ctx.dataPath, rule, ctx.direction, `${change}; ${consequence}`));
}

/** old/new view of a reader/writer pair, for messages. */
function oldNew<T>(ctx: Context, readerValue: T, writerValue: T): { before: T; after: T } {
  return ctx.direction === 'backward'
    ? { before: writerValue, after: readerValue }
    : { before: readerValue, after: writerValue };
}

/** Does `reader` accept every instance `writer` accepts? Appends violations to ctx. */
function check(readerSchema: unknown, writerSchema: unknown, ctx: Context): void {
  const reader = normalise(readerSchema);
  const writer = normalise(writerSchema);
  if (writer === false) return; // the writer produces nothing
  if (reader === false) {
    report(
      ctx,
      'schema-false',
      ctx.direction === 'backward' ? 'the schema became `false`' : 'the schema was `false` and now accepts data',
    );
    return;
  }

  // Follow local $refs on both sides (so a renamed $def is not a change), guarding against cycles.
  const readerRef = typeof reader.$ref === 'string' ? reader.$ref : undefined;
  const writerRef = typeof writer.$ref === 'string' ? writer.$ref : undefined;
  if (readerRef !== undefined || writerRef !== undefined) {
    const resolvedReader = readerRef !== undefined ? resolveRef(reader, ctx.readerRoot) : reader;
    const resolvedWriter = writerRef !== undefined ? resolveRef(writer, ctx.writerRoot) : writer;
    if (resolvedReader === undefined || resolvedWriter === undefined) {
      if (readerRef !== writerRef)
        report(
          ctx,
          'ref-changed',
          `$ref ${describeChange(oldNew(ctx, readerRef, writerRef))} cannot be resolved locally and was changed`,
        );
      return;
    }
    const key = `${readerRef ?? ctx.path}|${writerRef ?? ctx.path}`;
    if (ctx.seen.has(key)) return;
    const newRef = ctx.direction === 'backward' ? readerRef : writerRef;
    const next = {
      ...ctx,
      seen: new Set([...ctx.seen, key]),
      path: newRef !== undefined && newRef.startsWith('#') ? newRef : ctx.path,
    };
    check(resolvedReader, resolvedWriter, next);
    return;
  }

  if (acceptsEverything(reader)) return;

  checkTypes(reader, writer, ctx);
  checkEnum(reader, writer, ctx);
  checkNumericBounds(reader, writer, ctx);
  checkCountBounds(reader, writer, ctx);
  checkStringRules(reader, writer, ctx);
  checkObject(reader, writer, ctx);
  checkArray(reader, writer, ctx);
  checkCombinators(reader, writer, ctx);
  checkUnmodelled(reader, writer, ctx);
}

function normalise(schema: unknown): Schema {
  if (schema === false) return false;
  return isObject(schema) ? schema : {};
}

/** The target of a local $ref with the referring schema's other keywords; undefined when it cannot be resolved. */
function resolveRef(schema: SchemaObject, root: unknown): Schema | undefined {
  const ref = schema.$ref as string;
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const segment = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node) || !(segment in node)) return undefined;
    node = node[segment];
  }
  if (node === undefined) return undefined;
  const { $ref: _ref, ...siblings } = schema;
  const target = normalise(node);
  return target === false ? false : { ...target, ...stripAnnotations(siblings) };
}

function acceptsEverything(schema: SchemaObject): boolean {
  return Object.keys(schema).every((keyword) => isAnnotation(keyword));
}

// ---- type ------------------------------------------------------------------------------------------

/** The JSON types a schema admits at this level, or undefined for "any". */
function typesOf(schema: Schema, root: unknown): Set<string> | undefined {
  if (schema === false) return new Set();
  const declared = declaredTypes(schema);
  if (declared !== undefined) return declared;
  const branches = schema.oneOf ?? schema.anyOf;
  if (Array.isArray(branches) && branches.length > 0) {
    const union = new Set<string>();
    for (const branch of branches) {
      let resolved: Schema = normalise(branch);
      if (resolved !== false && typeof resolved.$ref === 'string') resolved = resolveRef(resolved, root) ?? {};
      const types = typesOf(resolved, root);
      if (types === undefined) return undefined;
      types.forEach((t) => union.add(t));
    }
    return union;
  }
  return undefined;
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeAccepts(types: Set<string>, type: string): boolean {
  return types.has(type) || (type === 'integer' && types.has('number'));
}

function checkTypes(reader: SchemaObject, writer: SchemaObject, ctx: Context): void {
  const readerTypes = typesOf(reader, ctx.readerRoot);
  if (readerTypes === undefined) return;
  const writerTypes = typesOf(writer, ctx.writerRoot);
  const rejected =
    writerTypes === undefined ? ['any other type'] : [...writerTypes].filter((t) => !typeAccepts(readerTypes, t));
  if (rejected.length === 0) return;
  const { before, after } = oldNew(
    ctx,
    [...readerTypes] as string[] | undefined,
    writerTypes === undefined ? undefined : [...writerTypes],
  );
  const rule = ctx.direction === 'backward' ? 'type-narrowed' : 'type-widened';
  const readerAge = ctx.direction === 'backward' ? 'new' : 'old';
  report(
    ctx,
    rule,
    `type changed from ${before === undefined ? 'any' : show(before)} to ${after === undefined ? 'any' : show(after)} (${rejected.join(', ')} values fail the ${readerAge} schema)`,
  );
}

// ---- enum / const ----------------------------------------------------------------------------------

function allowedValues(schema: SchemaObject): unknown[] | undefined {
  if ('const' in schema) return [schema.const];
  if (Array.isArray(schema.enum)) return schema.enum;
  return undefined;
}

function checkEnum(reader: SchemaObject, writer: SchemaObject, ctx: Context): void {
  const readerValues = allowedValues(reader);
  if (readerValues === undefined) return;
  const writerValues = allowedValues(writer);
  if (writerValues === undefined) {
    report(
      ctx,
      ctx.direction === 'backward' ? 'enum-added' : 'enum-removed',
      ctx.direction === 'backward'
        ? `an enum/const constraint ${show(readerValues)} was added`
        : `the enum/const constraint ${show(readerValues)} was removed`,
    );
    return;
  }
  const missing = writerValues.filter((value) => !readerValues.some((allowed) => deepEqual(allowed, value)));
  if (missing.length === 0) return;
  report(
    ctx,
    ctx.direction === 'backward' ? 'enum-narrowed' : 'enum-widened',
    ctx.direction === 'backward' ? `enum value(s) ${show(missing)} removed` : `enum value(s) ${show(missing)} added`,
  );
}

// ---- bounds ----------------------------------------------------------------------------------------

interface Bound {
  value: number;
  exclusive: boolean;
  keyword: string;
}

function upperBound(schema: SchemaObject): Bound | undefined {
  const candidates: Bound[] = [];
  if (typeof schema.maximum === 'number')
    candidates.push({ value: schema.maximum, exclusive: false, keyword: 'maximum' });
  if (typeof schema.exclusiveMaximum === 'number')
    candidates.push({ value: schema.exclusiveMaximum, exclusive: true, keyword: 'exclusiveMaximum' });
  return candidates.sort((a, b) => a.value - b.value || Number(b.exclusive) - Number(a.exclusive))[0];
}

function lowerBound(schema: SchemaObject): Bound | undefined {
  const candidates: Bound[] = [];
  if (typeof schema.minimum === 'number')
    candidates.push({ value: schema.minimum, exclusive: false, keyword: 'minimum' });
  if (typeof schema.exclusiveMinimum === 'number')
    candidates.push({ value: schema.exclusiveMinimum, exclusive: true, keyword: 'exclusiveMinimum' });
  return candidates.sort((a, b) => b.value - a.value || Number(b.exclusive) - Number(a.exclusive))[0];
}

const showBound = (bound: Bound | undefined): string =>
  bound === undefined ? 'none' : `${bound.keyword} ${bound.value}`;

function checkNumericBounds(reader: SchemaObject, writer: SchemaObject, ctx: Context): void {
  const readerMax = upperBound(reader);
  const writerMax = upperBound(writer);
  if (readerMax !== undefined) {
    const tighter =
      writerMax === undefined ||
      writerMax.value > readerMax.value ||
      (writerMax.value === readerMax.value && readerMax.exclusive && !writerMax.exclusive);
    if (tighter) reportBound(ctx, 'maximum', readerMax, writerMax);
  }
  const readerMin = lowerBound(reader);
  const writerMin = lowerBound(writer);
  if (readerMin !== undefined) {
    const tighter =
      writerMin === undefined ||
      writerMin.value < readerMin.value ||
      (writerMin.value === readerMin.value && readerMin.exclusive && !writerMin.exclusive);
    if (tighter) reportBound(ctx, 'minimum', readerMin, writerMin);
  }
  if (typeof reader.multipleOf === 'number') {
    const ratio = typeof writer.multipleOf === 'number' ? writer.multipleOf / reader.multipleOf : NaN;
    if (!Number.isInteger(Math.round(ratio * 1e9) / 1e9)) {
      const { before, after } = oldNew(ctx, reader.multipleOf, writer.multipleOf);
      report(
        ctx,
        ctx.direction === 'backward' ? 'multipleOf-tightened' : 'multipleOf-loosened',
        `multipleOf changed from ${show(before)} to ${show(after)}`,
      );
    }
  }
}

function reportBound(ctx: Context, kind: string, readerBound: Bound, writerBound: Bound | undefined): void {
  const { before, after } = oldNew<Bound | undefined>(ctx, readerBound, writerBound);
  const verb = ctx.direction === 'backward' ? 'tightened' : 'loosened';
  report(ctx, `${kind}-${verb}`, `${kind} ${verb} from ${showBound(before)} to ${showBound(after)}`);
}

function checkCountBounds(reader: SchemaObject, writer: SchemaObject, ctx: Context): void {
  for (const keyword of UPPER_BOUNDS) {
    const readerValue = reader[keyword];
    if (typeof readerValue !== 'number') continue;
    const writerValue = typeof writer[keyword] === 'number' ? writer[keyword] : Infinity;
    if (writerValue > readerValue) reportCount(ctx, keyword, readerValue, writer[keyword]);
  }
  for (const keyword of LOWER_BOUNDS) {
    const readerValue = reader[keyword];
    if (typeof readerValue !== 'number') continue;
    const writerValue = typeof writer[keyword] === 'number' ? writer[keyword] : 0;
    if (writerValue < readerValue) reportCount(ctx, keyword, readerValue, writer[keyword]);
  }
  if (reader.uniqueItems === true && writer.uniqueItems !== true) {
    report(
      ctx,
      ctx.direction === 'backward' ? 'uniqueItems-added' : 'uniqueItems-removed',
      ctx.direction === 'backward' ? 'uniqueItems: true was added' : 'uniqueItems: true was removed',
    );
  }
}

function reportCount(ctx: Context, keyword: string, readerValue: unknown, writerValue: unknown): void {
  const { before, after } = oldNew(ctx, readerValue, writerValue);
  const verb = ctx.direction === 'backward' ? 'tightened' : 'loosened';
  report(
    ctx,
    `${keyword}-${verb}`,
    `${keyword} ${verb} from ${String(before ?? 'none')} to ${String(after ?? 'none')}`,
  );
}

// ---- strings ---------------------------------------------------------------------------------------

function checkStringRules(reader: SchemaObject, writer: SchemaObject, ctx: Context): void {
  for (const keyword of ['pattern', 'format']) {
    if (reader[keyword] === undefined || reader[keyword] === writer[keyword]) continue;
    const { before, after } = oldNew(ctx, reader[keyword], writer[keyword]);
    const rule =
      before === undefined ? `${keyword}-added` : after === undefined ? `${keyword}-removed` : `${keyword}-changed`;
    report(
      ctx,
      rule,
      `${keyword} changed from ${before === undefined ? 'none' : show(before)} to ${after === undefined ? 'none' : show(after)} (a different ${keyword} cannot be proven to accept the same strings)`,
    );
  }
}

// ---- objects ---------------------------------------------------------------------------------------

const propertiesOf = (schema: SchemaObject): SchemaObject => (isObject(schema.properties) ? schema.properties : {});
const patternPropertiesOf = (schema: SchemaObject): SchemaObject =>
  isObject(schema.patternProperties) ? schema.patternProperties : {};
const requiredOf = (schema: SchemaObject): unknown[] => (Array.isArray(schema.required) ? schema.required : []);
const isClosed = (schema: SchemaObject): boolean => schema.additionalProperties === false;
const showAdditional = (value: unknown): string =>
  value === undefined ? 'absent (true)' : value === true || value === false ? String(value) : 'a schema';
/** A property schema that constrains its value; `false` (no value allowed) counts. */
const constrains = (schema: unknown): boolean => !acceptsEverything(normalise(schema) || { not: {} });

function matchingPatterns(schema: SchemaObject, name: string): [string, unknown][] {
  return Object.entries(patternPropertiesOf(schema)).filter(([pattern]) => safeRegExp(pattern)?.test(name) ?? false);
}

function checkObject(reader: SchemaObject, writer: SchemaObject, ctx: Context): void {
  const readerProps = propertiesOf(reader);
  const writerProps = propertiesOf(writer);

  for (const name of requiredOf(reader)) {
    if (typeof name !== 'string' || requiredOf(writer).includes(name)) continue;
    const sub = child(ctx, `properties/${escapePointer(name)}`, `.${name}`);
    report(
      sub,
      ctx.direction === 'backward' ? 'required-added' : 'required-removed',
      ctx.direction === 'backward'
        ? `property "${name}" became required (data written before may lack it)`
        : `property "${name}" is no longer required (old readers still require it)`,
    );
  }

  for (const [name, writerProp] of Object.entries(writerProps)) {
    const sub = child(ctx, `properties/${escapePointer(name)}`, `.${name}`);
    if (name in readerProps) {
      check(readerProps[name], writerProp, sub);
      continue;
    }
    // Data may carry `name`; the reader judges it by its patternProperties or additionalProperties.
    const patterns = matchingPatterns(reader, name);
    if (patterns.length > 0) {
      for (const [pattern, schema] of patterns)
        check(schema, writerProp, { ...sub, path: `${ctx.path}/patternProperties/${escapePointer(pattern)}` });
    } else if (isClosed(reader)) {
      report(
        sub,
        ctx.direction === 'backward' ? 'property-removed' : 'property-added',
        ctx.direction === 'backward'
          ? `property "${name}" was removed while additionalProperties is false (data written before may carry it)`
          : `property "${name}" was added, but the old schema has additionalProperties: false`,
      );
    } else if (reader.additionalProperties !== undefined && reader.additionalProperties !== true) {
      check(reader.additionalProperties, writerProp, { ...sub, path: `${ctx.path}/additionalProperties` });
    }
  }

  for (const [name, readerProp] of Object.entries(readerProps)) {
    if (name in writerProps) continue;
    const sub = child(ctx, `properties/${escapePointer(name)}`, `.${name}`);
    // The writer does not declare `name`: its data can still carry it unless the writer's content model excludes it.
    const writerPatterns = matchingPatterns(writer, name);
    if (writerPatterns.length > 0) {
      for (const [, schema] of writerPatterns) check(readerProp, schema, sub);
    } else if (isClosed(writer)) {
      continue;
    } else if (writer.additionalProperties !== undefined && writer.additionalProperties !== true) {
      check(readerProp, writer.additionalProperties, sub);
    } else if (constrains(readerProp)) {
      report(
        sub,
        ctx.direction === 'backward' ? 'open-property-constrained' : 'open-property-released',
        ctx.direction === 'backward'
          ? `property "${name}" was added to an open object (additionalProperties not false): data written before may carry "${name}" with any value`
          : `property "${name}" was removed from an open object: new data may carry "${name}" with any value, old readers still constrain it`,
      );
    }
  }

  for (const [pattern, readerSchema] of Object.entries(patternPropertiesOf(reader))) {
    const sub = child(ctx, `patternProperties/${escapePointer(pattern)}`, `[/${pattern}/]`);
    const writerSchema = patternPropertiesOf(writer)[pattern];
    if (writerSchema !== undefined) check(readerSchema, writerSchema, sub);
    else if (isClosed(writer)) continue;
    else if (writer.additionalProperties !== undefined && writer.additionalProperties !== true)
      check(readerSchema, writer.additionalProperties, sub);
    else if (constrains(readerSchema)) {
      report(
        sub,
        'pattern-property-constrained',
        `patternProperties ${show(pattern)} ${ctx.direction === 'backward' ? 'was added to' : 'was removed from'} an open object`,
      );
    }
  }

  const readerAdditional = reader.additionalProperties;
  const writerAdditional = writer.additionalProperties;
  if (readerAdditional !== undefined && readerAdditional !== true && !isClosed(writer)) {
    const sub = child(ctx, 'additionalProperties', '.*');
    if (readerAdditional === false || writerAdditional === undefined || writerAdditional === true) {
      const { before, after } = oldNew(ctx, readerAdditional, writerAdditional);
      report(
        sub,
        ctx.direction === 'backward' ? 'additional-properties-narrowed' : 'additional-properties-widened',
        `additionalProperties changed from ${showAdditional(before)} to ${showAdditional(after)}`,
      );
    } else {
      check(readerAdditional, writerAdditional, sub);
    }
  }

  if (reader.propertyNames !== undefined) {
    const sub = child(ctx, 'propertyNames', '.<name>');
    if (writer.propertyNames !== undefined) check(reader.propertyNames, writer.propertyNames, sub);
    else if (isClosed(writer) && Object.keys(patternPropertiesOf(writer)).length === 0) {
      // A closed writer only ever emits its declared names: check them one by one where possible.
      const names = Object.keys(writerProps);
      const pattern = isObject(reader.propertyNames) ? safeRegExp(reader.propertyNames.pattern) : undefined;
      const onlyPattern =
        isObject(reader.propertyNames) &&
        Object.keys(stripAnnotations(reader.propertyNames)).every((k) => k === 'pattern' || k === 'type');
      if (!(onlyPattern && pattern !== undefined && names.every((n) => pattern.test(n)))) {
        report(
          sub,
          'propertyNames-added',
          `a propertyNames constraint was ${ctx.direction === 'backward' ? 'added' : 'removed'}`,
        );
      }
    } else if (constrains(reader.propertyNames)) {
      report(
        sub,
        ctx.direction === 'backward' ? 'propertyNames-added' : 'propertyNames-removed',
        `a propertyNames constraint was ${ctx.direction === 'backward' ? 'added' : 'removed'}`,
      );
    }
  }
}

// ---- arrays ----------------------------------------------------------------------------------------

function checkArray(reader: SchemaObject, writer: SchemaObject, ctx: Context): void {
  const readerPrefix: unknown[] = Array.isArray(reader.prefixItems) ? reader.prefixItems : [];
  const writerPrefix: unknown[] = Array.isArray(writer.prefixItems) ? writer.prefixItems : [];
  const length = Math.max(readerPrefix.length, writerPrefix.length);
  for (let i = 0; i < length; i++) {
    const readerItem = i < readerPrefix.length ? readerPrefix[i] : reader.items;
    const writerItem = i < writerPrefix.length ? writerPrefix[i] : writer.items;
    check(readerItem, writerItem, child(ctx, `prefixItems/${i}`, `[${i}]`));
  }
  if (reader.items !== undefined) check(reader.items, writer.items, child(ctx, 'items', '[*]'));
}

// ---- combinators -----------------------------------------------------------------------------------

function withoutCombinators(schema: SchemaObject): SchemaObject {
  const { oneOf: _oneOf, anyOf: _anyOf, allOf: _allOf, ...rest } = schema;
  return rest;
}

function branchesOf(schema: SchemaObject, keyword: 'oneOf' | 'anyOf'): Schema[] | undefined {
  const branches = schema[keyword];
  if (!Array.isArray(branches)) return undefined;
  const siblings = stripAnnotations(withoutCombinators(schema));
  return branches.map((branch: unknown) => {
    const normal = normalise(branch);
    return normal === false ? false : { ...siblings, ...normal };
  });
}

/** Each writer alternative must be accepted by some reader alternative. */
function checkCombinators(reader: SchemaObject, writer: SchemaObject, ctx: Context): void {
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const readerBranches: unknown[] | undefined = Array.isArray(reader[keyword])
      ? (reader[keyword] as unknown[])
      : undefined;
    if (readerBranches === undefined) continue;
    const writerBranches = branchesOf(writer, 'oneOf') ?? branchesOf(writer, 'anyOf') ?? [withoutCombinators(writer)];
    const used = new Set<number>();
    writerBranches.forEach((writerBranch, j) => {
      const trials = readerBranches.map((readerBranch, i) => {
        const scratch: Context = { ...child(ctx, `${keyword}/${i}`), violations: [] };
        check(readerBranch, writerBranch, scratch);
        return scratch.violations;
      });
      const accepting = trials.findIndex((found) => found.length === 0);
      if (accepting >= 0) {
        used.add(accepting);
        return;
      }
      if (trials.length === 0) {
        report(child(ctx, keyword), `${keyword}-narrowed`, `${keyword} has no alternatives left`);
        return;
      }
      const closest = trials.reduce(
        (best, found, i) => (found.length < trials[best]!.length ? i : best),
        Math.min(j, trials.length - 1),
      );
      const closestTrial = trials[closest]!;
      if (closest === j) {
        // Most likely the same alternative, edited in place: report exactly what changed in it.
        ctx.violations.push(...closestTrial);
        return;
      }
      // An alternative with no counterpart: one violation, citing the most similar alternative's first problem.
      const side = ctx.direction === 'backward' ? { gone: 'old', judge: 'new' } : { gone: 'new', judge: 'old' };
      report(
        child(ctx, keyword),
        ctx.direction === 'backward' ? `${keyword}-narrowed` : `${keyword}-widened`,
        `${keyword} alternative ${j} of the ${side.gone} schema is accepted by no alternative of the ${side.judge} schema (closest, ${closest}: ${closestTrial[0]!.message.split('; ')[0]})`,
      );
    });
    if (keyword === 'oneOf' && readerBranches.length > used.size && !isDiscriminated(readerBranches, ctx.readerRoot)) {
      report(
        child(ctx, keyword),
        'oneOf-overlap',
        `oneOf alternatives changed and are not discriminated by a required const property: data may now match more than one alternative`,
      );
    }
  }
  if (Array.isArray(reader.allOf) || Array.isArray(writer.allOf)) {
    if (!deepEqual(stripAnnotationsDeep(reader.allOf), stripAnnotationsDeep(writer.allOf))) {
      const readerAll: unknown[] = Array.isArray(reader.allOf) ? reader.allOf : [];
      const writerAll: unknown[] = Array.isArray(writer.allOf) ? writer.allOf : [];
      if (readerAll.length === writerAll.length)
        readerAll.forEach((r, i) => check(r, writerAll[i], child(ctx, `allOf/${i}`)));
      else
        report(
          child(ctx, 'allOf'),
          'allOf-changed',
          `allOf went from ${ctx.direction === 'backward' ? writerAll.length : readerAll.length} to ${ctx.direction === 'backward' ? readerAll.length : writerAll.length} subschemas`,
        );
    }
  }
}

/** oneOf alternatives that all require one property with distinct const values can never overlap. */
function isDiscriminated(branches: unknown[], root: unknown): boolean {
  const resolved = branches.map((branch) => {
    const normal = normalise(branch);
    return normal !== false && typeof normal.$ref === 'string' ? resolveRef(normal, root) : normal;
  });
  if (!resolved.every(isObject)) return false;
  const [first] = resolved;
  if (first === undefined) return false;
  const constOf = (b: SchemaObject, name: string): SchemaObject | undefined => {
    const property = propertiesOf(b)[name];
    return isObject(property) && 'const' in property ? property : undefined;
  };
  const candidates = Object.keys(propertiesOf(first)).filter((name) =>
    resolved.every((b) => requiredOf(b).includes(name) && constOf(b, name) !== undefined),
  );
  return candidates.some((name) => {
    const values = resolved.map((b) => JSON.stringify(constOf(b, name)?.const));
    return new Set(values).size === values.length;
  });
}

// ---- everything else -------------------------------------------------------------------------------

function checkUnmodelled(reader: SchemaObject, writer: SchemaObject, ctx: Context): void {
  const keywords = new Set([...Object.keys(reader), ...Object.keys(writer)]);
  for (const keyword of [...keywords].sort()) {
    if (HANDLED.has(keyword) || isAnnotation(keyword)) continue;
    if (deepEqual(stripAnnotationsDeep(reader[keyword]), stripAnnotationsDeep(writer[keyword]))) continue;
    report(
      child(ctx, escapePointer(keyword)),
      'unsupported-change',
      `"${keyword}" changed and this check cannot prove the change compatible`,
      false,
    );
  }
}

// ---- helpers ---------------------------------------------------------------------------------------

function isObject(value: unknown): value is SchemaObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stripAnnotations(schema: SchemaObject): SchemaObject {
  return Object.fromEntries(Object.entries(schema).filter(([keyword]) => !isAnnotation(keyword)));
}

function stripAnnotationsDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripAnnotationsDeep);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !isAnnotation(k) || k === '$defs')
      .map(([k, v]) => [k, stripAnnotationsDeep(v)]),
  );
}

/** Structural equality of JSON values (object key order does not matter). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => key in b && deepEqual(a[key], b[key]));
  }
  return false;
}

function safeRegExp(pattern: unknown): RegExp | undefined {
  if (typeof pattern !== 'string') return undefined;
  try {
    return new RegExp(pattern, 'u');
  } catch {
    return undefined;
  }
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function show(value: unknown): string {
  return JSON.stringify(value);
}

function describeChange({ before, after }: { before: unknown; after: unknown }): string {
  return `from ${show(before)} to ${show(after)}`;
}
