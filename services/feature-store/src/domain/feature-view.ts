import { type DurationInput, parseDuration } from './duration';
import { type Expression, type ValueType, checkExpressionTypes, parseExpression, referencedNames } from './expression';
import { type RecordSchema, fieldEnum, fieldSchemaAt, fieldValueType } from './record-schema';
import { type Result, err, ok } from './result';

// ---------------------------------------------------------------- definitions (what people write)

export type CastTarget = 'number' | 'string' | 'boolean';
export type AggregateFunction = 'count' | 'sum' | 'mean' | 'min' | 'max';

/** A source field as is, or cast to number/string/boolean. */
export interface FieldFeature {
  readonly kind: 'field';
  readonly name: string;
  /** Dot path of the source field. */
  readonly field: string;
  readonly cast?: CastTarget;
}

/** ln(x + offset); offset defaults to 1 so that counts starting at 0 are defined. */
export interface LogFeature {
  readonly kind: 'log';
  readonly name: string;
  readonly field: string;
  readonly offset?: number;
}

/** Bucket index: 0 below boundaries[0], i when boundaries[i-1] <= x < boundaries[i], n at or above the last. */
export interface BucketizeFeature {
  readonly kind: 'bucketize';
  readonly name: string;
  readonly field: string;
  readonly boundaries: readonly number[];
}

/** A fixed vocabulary as an index (out-of-vocabulary values get `outOfVocabularyIndex`, default vocabulary.length). */
export interface CategoricalIndexFeature {
  readonly kind: 'categorical';
  readonly encoding: 'index';
  readonly name: string;
  readonly field: string;
  readonly vocabulary: readonly string[];
  readonly outOfVocabularyIndex?: number;
}

/** A fixed vocabulary as one 0/1 feature per category, named `<name>__<category>`; all 0 when out of vocabulary. */
export interface CategoricalOneHotFeature {
  readonly kind: 'categorical';
  readonly encoding: 'one-hot';
  readonly name: string;
  readonly field: string;
  readonly vocabulary: readonly string[];
}

/** A derived value in the expression language (see expression.ts); names are features first, then source fields. */
export interface ExpressionFeature {
  readonly kind: 'expression';
  readonly name: string;
  readonly expression: string;
}

/** count/sum/mean/min/max of a numeric field over a sliding window of event time, per entity. */
export interface AggregateFeature {
  readonly kind: 'aggregate';
  readonly name: string;
  readonly field: string;
  readonly function: AggregateFunction;
  readonly window: DurationInput;
}

export type FeatureDefinition =
  | FieldFeature
  | LogFeature
  | BucketizeFeature
  | CategoricalIndexFeature
  | CategoricalOneHotFeature
  | ExpressionFeature
  | AggregateFeature;

export interface FeatureViewDefinition {
  readonly name: string;
  readonly version: number;
  readonly source: {
    readonly dataset: string;
    /** Defaults to the dataset's; when given it must match (catches a view written against another registration). */
    readonly entityKeyField?: string;
    readonly eventTimeField?: string;
  };
  /** How long a value stays valid after its event time (online serving and point-in-time joins). */
  readonly ttl: DurationInput;
  readonly features: readonly FeatureDefinition[];
}

/** The registered dataset a view reads (from mlops.dataset.registered.v1). */
export interface SourceDataset {
  readonly name: string;
  readonly recordSchema: RecordSchema;
  readonly entityKeyField: string;
  readonly eventTimeField: string;
  /** Never materialised: a view may not read them. */
  readonly sensitiveFields?: readonly string[];
}

/** One reason a definition does not fit; path is a JSON Pointer into the definition. */
export interface DefinitionIssue {
  readonly path: string;
  readonly message: string;
}

// ---------------------------------------------------------------- compiled view (what computeFeatures runs)

export type CompiledFeature =
  | (FieldFeature & { readonly outputs: readonly string[] })
  | (Required<LogFeature> & { readonly outputs: readonly string[] })
  | (BucketizeFeature & { readonly outputs: readonly string[] })
  | (Required<CategoricalIndexFeature> & { readonly outputs: readonly string[] })
  | (CategoricalOneHotFeature & { readonly outputs: readonly string[] })
  | (ExpressionFeature & { readonly outputs: readonly string[]; readonly ast: Expression })
  | (AggregateFeature & { readonly outputs: readonly string[]; readonly aggregation: AggregationSpec });

/** Where an aggregate reads its buckets: one series per (field, granularity), shared by every window using it. */
export interface AggregationSpec {
  readonly series: string;
  readonly field: string;
  readonly granularityMs: number;
  readonly windowMs: number;
  readonly function: AggregateFunction;
}

export interface SeriesSpec {
  readonly key: string;
  readonly field: string;
  readonly granularityMs: number;
  /** The longest window reading this series. */
  readonly longestWindowMs: number;
}

export interface FeatureView {
  readonly name: string;
  readonly version: number;
  readonly source: { readonly dataset: string; readonly entityKeyField: string; readonly eventTimeField: string };
  readonly ttlMs: number;
  /** In evaluation order: every feature after the features it references. */
  readonly features: readonly CompiledFeature[];
  /** Output feature names in declaration order (one-hot expanded): the keys of every vector. */
  readonly outputNames: readonly string[];
  readonly series: readonly SeriesSpec[];
  /** The longest window of the view; 0 without aggregates. Older events are ignored by aggregates. */
  readonly horizonMs: number;
  /** Source fields the row-level features read: kept with the entity's latest record. */
  readonly rowFields: readonly string[];
  readonly definition: FeatureViewDefinition;
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const LONGEST_WINDOW_MS = 366 * DAY_MS;

/** Bucket size of a window: 1 minute up to 24 hours, 1 hour beyond; a series keeps at most (view horizon + its longest window) / bucket size buckets. */
export function granularityFor(windowMs: number): number {
  return windowMs <= DAY_MS ? MINUTE_MS : HOUR_MS;
}

const VIEW_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
const FEATURE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const CASTS: readonly string[] = ['number', 'string', 'boolean'];
const AGGREGATES: readonly string[] = ['count', 'sum', 'mean', 'min', 'max'];

// ---------------------------------------------------------------- validation

/**
 * The compiled view, or every reason the definition does not fit the dataset (not just the first):
 * bad names, unknown or sensitive fields, fields of the wrong type for their transform, bad boundaries or
 * vocabularies, bad durations, expression parse/type errors, unknown names, cycles, duplicate outputs.
 */
export function validateFeatureView(definition: FeatureViewDefinition, dataset: SourceDataset): Result<FeatureView, DefinitionIssue[]> {
  const issues: DefinitionIssue[] = [];
  const issue = (path: string, message: string): void => void issues.push({ path, message });
  const schema = dataset.recordSchema;
  const sensitive = new Set(dataset.sensitiveFields ?? []);

  if (typeof definition.name !== 'string' || !VIEW_NAME.test(definition.name)) {
    issue('/name', `view name "${String(definition.name)}" must be lowercase letters, digits, '_' or '-', starting with a letter, at most 63 characters`);
  }
  if (!Number.isInteger(definition.version) || definition.version < 1) issue('/version', `version ${String(definition.version)} must be an integer >= 1`);

  const source = definition.source ?? { dataset: '' };
  if (source.dataset !== dataset.name) issue('/source/dataset', `the view reads dataset "${source.dataset}" but was validated against "${dataset.name}"`);
  const entityKeyField = source.entityKeyField ?? dataset.entityKeyField;
  const eventTimeField = source.eventTimeField ?? dataset.eventTimeField;
  if (entityKeyField !== dataset.entityKeyField) issue('/source/entityKeyField', `entity key field "${entityKeyField}" is not the dataset's ("${dataset.entityKeyField}")`);
  if (eventTimeField !== dataset.eventTimeField) issue('/source/eventTimeField', `event-time field "${eventTimeField}" is not the dataset's ("${dataset.eventTimeField}")`);
  if (!fieldSchemaAt(schema, dataset.entityKeyField)) issue('/source/entityKeyField', `the record schema has no field "${dataset.entityKeyField}"`);
  if (!fieldSchemaAt(schema, dataset.eventTimeField)) issue('/source/eventTimeField', `the record schema has no field "${dataset.eventTimeField}"`);

  const ttl = parseDuration(definition.ttl);
  if (!ttl.ok) issue('/ttl', ttl.error);

  const features = listOf(definition.features);
  if (features.length === 0) issue('/features', 'a view needs at least one feature');

  // Pass 1: outputs of every feature, so that expressions may reference any of them (declaration order is free).
  const ownerOfOutput = new Map<string, number>();
  const outputNames: string[] = [];
  const outputsOf = features.map((feature, index) => {
    if (typeof feature !== 'object' || feature === null) {
      issue(`/features/${index}`, 'a feature must be an object');
      return [];
    }
    const outputs = feature.kind === 'categorical' && feature.encoding === 'one-hot'
      ? listOf(feature.vocabulary).map((category) => `${feature.name}__${category}`)
      : [feature.name];
    if (typeof feature.name !== 'string' || !FEATURE_NAME.test(feature.name)) {
      issue(`/features/${index}/name`, `feature name "${String(feature.name)}" must be letters, digits or '_', not starting with a digit, at most 128 characters`);
    }
    for (const output of outputs) {
      if (output !== feature.name && !FEATURE_NAME.test(output)) {
        issue(`/features/${index}/vocabulary`, `one-hot output "${output}" is not a valid feature name; categories must be letters, digits or '_'`);
      }
      const owner = ownerOfOutput.get(output);
      if (owner !== undefined) issue(`/features/${index}/name`, `duplicate feature name "${output}" (also produced by /features/${owner})`);
      else ownerOfOutput.set(output, index);
      outputNames.push(output);
    }
    return outputs;
  });

  // A source field a transform reads: it must exist, not be sensitive, and (when `wanted` is given) have that type.
  const checkField = (index: number, path: string, wanted: ValueType | undefined, transform: string): ValueType => {
    if (typeof path !== 'string' || path.length === 0) {
      issue(`/features/${index}/field`, 'field is required');
      return 'any';
    }
    const fieldSchema = fieldSchemaAt(schema, path);
    if (!fieldSchema) {
      issue(`/features/${index}/field`, `unknown field "${path}" in dataset "${dataset.name}"`);
      return 'any';
    }
    if (sensitive.has(path) || sensitive.has(path.split('.')[0] as string)) issue(`/features/${index}/field`, `field "${path}" is sensitive and may not feed a feature`);
    const type = fieldValueType(fieldSchema);
    if (wanted && type !== wanted) issue(`/features/${index}/field`, `${transform} needs a ${wanted} field, but "${path}" is ${type === 'any' ? 'not declared as one type' : `a ${type}`}`);
    return type;
  };

  // Pass 2: each feature on its own; expressions are parsed here and type-checked in pass 3.
  const compiled: (CompiledFeature | undefined)[] = [];
  const typeOfFeature = new Map<number, ValueType>();
  const dependencies = new Map<number, Map<number, number>>();
  const seriesByKey = new Map<string, SeriesSpec>();
  const rowFields = new Set<string>();
  features.forEach((feature, index) => {
    const at = `/features/${index}`;
    if (typeof feature !== 'object' || feature === null) return;
    const outputs = outputsOf[index] as string[];
    switch (feature.kind) {
      case 'field': {
        const type = checkField(index, feature.field, undefined, 'a field feature');
        if (feature.cast !== undefined && !CASTS.includes(feature.cast)) issue(`${at}/cast`, `cast "${String(feature.cast)}" must be one of ${CASTS.join(', ')}`);
        typeOfFeature.set(index, feature.cast ?? type);
        rowFields.add(feature.field);
        compiled[index] = { ...feature, outputs };
        return;
      }
      case 'log': {
        checkField(index, feature.field, 'number', 'log');
        const offset = feature.offset ?? 1;
        if (typeof offset !== 'number' || !Number.isFinite(offset)) issue(`${at}/offset`, `offset ${String(offset)} must be a finite number`);
        typeOfFeature.set(index, 'number');
        rowFields.add(feature.field);
        compiled[index] = { ...feature, offset, outputs };
        return;
      }
      case 'bucketize': {
        checkField(index, feature.field, 'number', 'bucketize');
        const boundaries = listOf(feature.boundaries);
        if (boundaries.length === 0) issue(`${at}/boundaries`, 'bucketize needs at least one boundary');
        boundaries.forEach((boundary, i) => {
          if (typeof boundary !== 'number' || !Number.isFinite(boundary)) issue(`${at}/boundaries/${i}`, `boundary ${String(boundary)} is not a finite number`);
          else if (i > 0 && !(boundary > (boundaries[i - 1] as number))) {
            issue(`${at}/boundaries/${i}`, `boundaries must be strictly increasing: ${boundary} follows ${String(boundaries[i - 1])}`);
          }
        });
        typeOfFeature.set(index, 'number');
        rowFields.add(feature.field);
        compiled[index] = { ...feature, outputs };
        return;
      }
      case 'categorical': {
        checkField(index, feature.field, 'string', 'categorical encoding');
        const vocabulary = listOf(feature.vocabulary);
        if (vocabulary.length === 0) issue(`${at}/vocabulary`, 'the vocabulary needs at least one category');
        const seen = new Set<string>();
        const fieldSchema = typeof feature.field === 'string' ? fieldSchemaAt(schema, feature.field) : undefined;
        const allowed = fieldSchema ? fieldEnum(fieldSchema) : undefined;
        vocabulary.forEach((category, i) => {
          if (typeof category !== 'string' || category.length === 0) issue(`${at}/vocabulary/${i}`, `category ${JSON.stringify(category)} must be a non-empty string`);
          else if (seen.has(category)) issue(`${at}/vocabulary/${i}`, `category "${category}" appears twice`);
          else if (allowed && !allowed.includes(category)) issue(`${at}/vocabulary/${i}`, `category "${category}" can never occur: not in the enum of "${feature.field}"`);
          seen.add(category);
        });
        if (feature.encoding === 'index') {
          const oov = feature.outOfVocabularyIndex ?? vocabulary.length;
          if (!Number.isInteger(oov) || oov < 0) issue(`${at}/outOfVocabularyIndex`, `out-of-vocabulary index ${String(oov)} must be an integer >= 0`);
          else if (oov < vocabulary.length) issue(`${at}/outOfVocabularyIndex`, `out-of-vocabulary index ${oov} collides with category "${vocabulary[oov]}"`);
          compiled[index] = { ...feature, outOfVocabularyIndex: oov, outputs };
        } else if (feature.encoding === 'one-hot') {
          compiled[index] = { ...feature, outputs };
        } else {
          issue(`${at}/encoding`, `encoding "${String((feature as { encoding?: unknown }).encoding)}" must be "index" or "one-hot"`);
        }
        typeOfFeature.set(index, 'number');
        rowFields.add(feature.field);
        return;
      }
      case 'expression': {
        const parsed = parseExpression(typeof feature.expression === 'string' ? feature.expression : '');
        if (!parsed.ok) {
          issue(`${at}/expression`, parsed.error.message);
          typeOfFeature.set(index, 'any');
          return;
        }
        const references = new Map<number, number>();
        for (const [name, position] of referencedNames(parsed.value)) {
          const owner = ownerOfOutput.get(name);
          if (owner !== undefined) {
            references.set(owner, position);
            continue;
          }
          const fieldSchema = fieldSchemaAt(schema, name);
          if (!fieldSchema) issue(`${at}/expression`, `unknown name "${name}" at position ${position}: neither a feature of the view nor a field of "${dataset.name}"`);
          else if (sensitive.has(name) || sensitive.has(name.split('.')[0] as string)) issue(`${at}/expression`, `field "${name}" at position ${position} is sensitive and may not feed a feature`);
          else rowFields.add(name);
        }
        dependencies.set(index, references);
        compiled[index] = { ...feature, outputs, ast: parsed.value };
        return;
      }
      case 'aggregate': {
        checkField(index, feature.field, 'number', `aggregate ${feature.function}`);
        if (!AGGREGATES.includes(feature.function)) issue(`${at}/function`, `aggregate function "${String(feature.function)}" must be one of ${AGGREGATES.join(', ')}`);
        typeOfFeature.set(index, 'number');
        const window = parseDuration(feature.window);
        if (!window.ok) {
          issue(`${at}/window`, window.error);
          return;
        }
        const granularityMs = granularityFor(window.value);
        if (window.value > LONGEST_WINDOW_MS) issue(`${at}/window`, `window "${feature.window}" is longer than 366 days`);
        else if (window.value % granularityMs !== 0) {
          issue(`${at}/window`, `window "${feature.window}" must be a whole number of ${granularityMs === MINUTE_MS ? 'minutes' : 'hours'} (its bucket size)`);
        }
        const key = `${feature.field}@${granularityMs}`;
        const previous = seriesByKey.get(key);
        seriesByKey.set(key, { key, field: feature.field, granularityMs, longestWindowMs: Math.max(previous?.longestWindowMs ?? 0, window.value) });
        compiled[index] = {
          ...feature,
          outputs,
          aggregation: { series: key, field: feature.field, granularityMs, windowMs: window.value, function: feature.function },
        };
        return;
      }
      default: {
        const unknown: { kind?: unknown } = feature;
        issue(`${at}/kind`, `unknown feature kind "${String(unknown.kind)}"; expected field, log, bucketize, categorical, expression or aggregate`);
      }
    }
  });

  // Pass 3: evaluation order (expressions after what they reference), cycles, then expression types in that order.
  const order = topologicalOrder(features.length, dependencies, (cycle) => {
    const names = cycle.map((i) => features[i]?.name ?? String(i));
    issue(`/features/${cycle[0]}/expression`, `features form a cycle: ${names.join(' -> ')}`);
  });
  for (const index of order) {
    const feature = compiled[index];
    if (!feature || feature.kind !== 'expression') continue;
    const checked = checkExpressionTypes(feature.ast, (name) => {
      const owner = ownerOfOutput.get(name);
      if (owner !== undefined) return typeOfFeature.get(owner) ?? 'any';
      const fieldSchema = fieldSchemaAt(schema, name);
      return fieldSchema ? fieldValueType(fieldSchema) : 'any';
    });
    checked.errors.forEach((error) => issue(`/features/${index}/expression`, error.message));
    typeOfFeature.set(index, checked.type);
  }

  if (issues.length > 0 || !ttl.ok) return err(issues);
  const series = [...seriesByKey.values()];
  return ok({
    name: definition.name,
    version: definition.version,
    source: { dataset: dataset.name, entityKeyField, eventTimeField },
    ttlMs: ttl.value,
    features: order.map((i) => compiled[i] as CompiledFeature),
    outputNames,
    series,
    horizonMs: Math.max(0, ...series.map((s) => s.longestWindowMs)),
    rowFields: [...rowFields],
    definition,
  });
}

/**
 * Indices 0..n-1 ordered so that each comes after its dependencies (declaration order otherwise);
 * each cycle is reported once, and its members are still placed so that the caller can go on checking.
 */
function topologicalOrder(n: number, dependencies: ReadonlyMap<number, ReadonlyMap<number, number>>, onCycle: (cycle: number[]) => void): number[] {
  const state = new Array<'new' | 'visiting' | 'done'>(n).fill('new');
  const order: number[] = [];
  const stack: number[] = [];
  const visit = (node: number): void => {
    if (state[node] === 'done') return;
    if (state[node] === 'visiting') {
      onCycle([...stack.slice(stack.indexOf(node)), node]);
      return;
    }
    state[node] = 'visiting';
    stack.push(node);
    for (const dependency of dependencies.get(node)?.keys() ?? []) visit(dependency);
    stack.pop();
    state[node] = 'done';
    order.push(node);
  };
  for (let i = 0; i < n; i++) visit(i);
  return order;
}

/** The array, or an empty one when a definition (decoded from JSON) holds something else. */
function listOf<T>(value: readonly T[] | undefined): readonly T[] {
  return Array.isArray(value) ? value : [];
}
