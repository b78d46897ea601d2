// The rules a feature view definition must follow, one function per thing decided; validateFeatureView runs them.
// Shapes (types, required keys, known kinds and enums) are the request schema's job: these check business rules.
import { type DurationInput, parseDuration } from './duration';
import { type Expression, type ValueType, checkExpressionTypes, parseExpression, referencedNames } from './expression';
import type {
  AggregateFeature,
  BucketizeFeature,
  CategoricalIndexFeature,
  CategoricalOneHotFeature,
  CompiledFeature,
  DefinitionIssue,
  ExpressionFeature,
  FeatureDefinition,
  FeatureView,
  FeatureViewDefinition,
  FieldFeature,
  LogFeature,
  SeriesSpec,
  SourceDataset,
} from './feature-view';
import { fieldEnum, fieldSchemaAt, fieldValueType } from './record-schema';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const LONGEST_WINDOW_MS = 366 * DAY_MS;
/** Longest TTL of a view's online values: 10 years (3650 days). */
export const LONGEST_TTL_MS = 3650 * DAY_MS;

/** Bucket size of a window: 1 minute up to 24 hours, 1 hour beyond; a series keeps at most (view horizon + its longest window) / bucket size buckets. */
export function granularityFor(windowMs: number): number {
  return windowMs <= DAY_MS ? MINUTE_MS : HOUR_MS;
}

const VIEW_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
const FEATURE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** What a rule decided, and every reason against it. */
export interface Checked<T> {
  readonly value: T;
  readonly issues: DefinitionIssue[];
}

// ---------------------------------------------------------------- names and uniqueness

/** The view's name and version. */
export function checkViewIdentity(name: string, version: number): DefinitionIssue[] {
  const issues: DefinitionIssue[] = [];
  if (!VIEW_NAME.test(name)) {
    issues.push({
      path: '/name',
      message: `view name "${name}" must be lowercase letters, digits, '_' or '-', starting with a letter, at most 63 characters`,
    });
  }
  if (!Number.isInteger(version) || version < 1)
    issues.push({ path: '/version', message: `version ${version} must be an integer >= 1` });
  return issues;
}

/** The names a feature produces: its own, or one per category for one-hot encoding. */
export function outputsOf(feature: FeatureDefinition): string[] {
  return feature.kind === 'categorical' && feature.encoding === 'one-hot'
    ? feature.vocabulary.map((category) => `${feature.name}__${category}`)
    : [feature.name];
}

export interface FeatureOutputs {
  /** Output names per feature, by index. */
  readonly outputsOf: readonly (readonly string[])[];
  /** Every output in declaration order (the keys of a vector). */
  readonly outputNames: readonly string[];
  /** The index of the feature producing each output (the first one, when two collide). */
  readonly ownerOfOutput: ReadonlyMap<string, number>;
}

/** Feature names valid, and every output produced once. */
export function checkFeatureOutputs(features: readonly FeatureDefinition[]): Checked<FeatureOutputs> {
  const issues: DefinitionIssue[] = [];
  const ownerOfOutput = new Map<string, number>();
  const outputNames: string[] = [];
  if (features.length === 0) issues.push({ path: '/features', message: 'a view needs at least one feature' });
  const outputs = features.map((feature, index) => {
    if (!FEATURE_NAME.test(feature.name)) {
      issues.push({
        path: `/features/${index}/name`,
        message: `feature name "${feature.name}" must be letters, digits or '_', not starting with a digit, at most 128 characters`,
      });
    }
    const produced = outputsOf(feature);
    for (const output of produced) {
      if (output !== feature.name && !FEATURE_NAME.test(output)) {
        issues.push({
          path: `/features/${index}/vocabulary`,
          message: `one-hot output "${output}" is not a valid feature name; categories must be letters, digits or '_'`,
        });
      }
      const owner = ownerOfOutput.get(output);
      if (owner !== undefined)
        issues.push({
          path: `/features/${index}/name`,
          message: `duplicate feature name "${output}" (also produced by /features/${owner})`,
        });
      else ownerOfOutput.set(output, index);
      outputNames.push(output);
    }
    return produced;
  });
  return { value: { outputsOf: outputs, outputNames, ownerOfOutput }, issues };
}

// ---------------------------------------------------------------- source and dataset field references

/** The view's source: its dataset, and key and time fields that are the dataset's and exist in its records. */
export function checkSource(
  source: FeatureViewDefinition['source'],
  dataset: SourceDataset,
): Checked<FeatureView['source']> {
  const issues: DefinitionIssue[] = [];
  if (source.dataset !== dataset.name)
    issues.push({
      path: '/source/dataset',
      message: `the view reads dataset "${source.dataset}" but was validated against "${dataset.name}"`,
    });
  const entityKeyField = source.entityKeyField ?? dataset.entityKeyField;
  const eventTimeField = source.eventTimeField ?? dataset.eventTimeField;
  if (entityKeyField !== dataset.entityKeyField) {
    issues.push({
      path: '/source/entityKeyField',
      message: `entity key field "${entityKeyField}" is not the dataset's ("${dataset.entityKeyField}")`,
    });
  }
  if (eventTimeField !== dataset.eventTimeField) {
    issues.push({
      path: '/source/eventTimeField',
      message: `event-time field "${eventTimeField}" is not the dataset's ("${dataset.eventTimeField}")`,
    });
  }
  if (!fieldSchemaAt(dataset.recordSchema, dataset.entityKeyField))
    issues.push({
      path: '/source/entityKeyField',
      message: `the record schema has no field "${dataset.entityKeyField}"`,
    });
  if (!fieldSchemaAt(dataset.recordSchema, dataset.eventTimeField))
    issues.push({
      path: '/source/eventTimeField',
      message: `the record schema has no field "${dataset.eventTimeField}"`,
    });
  return { value: { dataset: dataset.name, entityKeyField, eventTimeField }, issues };
}

function isSensitive(dataset: SourceDataset, path: string): boolean {
  const sensitive = dataset.sensitiveFields ?? [];
  return sensitive.includes(path) || sensitive.includes(path.split('.')[0]!);
}

/**
 * A source field a transform reads (`at` is the feature's path): it must exist, not be sensitive, and (when
 * `wanted` is given) have that type. The value is the field's type ('any' when unknown).
 */
export function checkFieldReference(
  dataset: SourceDataset,
  at: string,
  path: string,
  wanted: ValueType | undefined,
  transform: string,
): Checked<ValueType> {
  if (path.length === 0) return { value: 'any', issues: [{ path: `${at}/field`, message: 'field is required' }] };
  const fieldSchema = fieldSchemaAt(dataset.recordSchema, path);
  if (!fieldSchema)
    return {
      value: 'any',
      issues: [{ path: `${at}/field`, message: `unknown field "${path}" in dataset "${dataset.name}"` }],
    };
  const issues: DefinitionIssue[] = [];
  if (isSensitive(dataset, path))
    issues.push({ path: `${at}/field`, message: `field "${path}" is sensitive and may not feed a feature` });
  const type = fieldValueType(fieldSchema);
  if (wanted && type !== wanted) {
    issues.push({
      path: `${at}/field`,
      message: `${transform} needs a ${wanted} field, but "${path}" is ${type === 'any' ? 'not declared as one type' : `a ${type}`}`,
    });
  }
  return { value: type, issues };
}

// ---------------------------------------------------------------- windows and TTL

/** The TTL in milliseconds, at most 10 years (undefined when it is not a valid duration). */
export function checkTtl(ttl: DurationInput): Checked<number | undefined> {
  const parsed = parseDuration(ttl);
  if (!parsed.ok) return { value: undefined, issues: [{ path: '/ttl', message: parsed.error }] };
  if (parsed.value > LONGEST_TTL_MS)
    return {
      value: undefined,
      issues: [{ path: '/ttl', message: `ttl "${ttl}" is longer than 10 years (3650 days)` }],
    };
  return { value: parsed.value, issues: [] };
}

/** An aggregate's window: a duration of at most 366 days, a whole number of its bucket size. */
export function checkWindow(
  window: DurationInput,
  at: string,
): Checked<{ windowMs: number; granularityMs: number } | undefined> {
  const parsed = parseDuration(window);
  if (!parsed.ok) return { value: undefined, issues: [{ path: `${at}/window`, message: parsed.error }] };
  const windowMs = parsed.value;
  const granularityMs = granularityFor(windowMs);
  const issues: DefinitionIssue[] = [];
  if (windowMs > LONGEST_WINDOW_MS)
    issues.push({ path: `${at}/window`, message: `window "${window}" is longer than 366 days` });
  else if (windowMs % granularityMs !== 0) {
    issues.push({
      path: `${at}/window`,
      message: `window "${window}" must be a whole number of ${granularityMs === MINUTE_MS ? 'minutes' : 'hours'} (its bucket size)`,
    });
  }
  return { value: { windowMs, granularityMs }, issues };
}

// ---------------------------------------------------------------- each kind of feature

/** A feature compiled on its own: what it computes, its value type, the source fields its row needs. */
export interface FeatureCompilation {
  readonly compiled: CompiledFeature;
  readonly type: ValueType;
  readonly rowFields: readonly string[];
}

export function compileFieldFeature(
  feature: FieldFeature,
  at: string,
  outputs: readonly string[],
  dataset: SourceDataset,
): Checked<FeatureCompilation> {
  const field = checkFieldReference(dataset, at, feature.field, undefined, 'a field feature');
  return {
    value: { compiled: { ...feature, outputs }, type: feature.cast ?? field.value, rowFields: [feature.field] },
    issues: field.issues,
  };
}

export function compileLogFeature(
  feature: LogFeature,
  at: string,
  outputs: readonly string[],
  dataset: SourceDataset,
): Checked<FeatureCompilation> {
  const field = checkFieldReference(dataset, at, feature.field, 'number', 'log');
  // ln(x + 1) by default, so that counts starting at 0 are defined.
  const compiled = { ...feature, offset: feature.offset ?? 1, outputs };
  return { value: { compiled, type: 'number', rowFields: [feature.field] }, issues: field.issues };
}

export function compileBucketizeFeature(
  feature: BucketizeFeature,
  at: string,
  outputs: readonly string[],
  dataset: SourceDataset,
): Checked<FeatureCompilation> {
  const issues = [...checkFieldReference(dataset, at, feature.field, 'number', 'bucketize').issues];
  if (feature.boundaries.length === 0)
    issues.push({ path: `${at}/boundaries`, message: 'bucketize needs at least one boundary' });
  feature.boundaries.forEach((boundary, i) => {
    const previous = feature.boundaries[i - 1];
    if (previous !== undefined && !(boundary > previous)) {
      issues.push({
        path: `${at}/boundaries/${i}`,
        message: `boundaries must be strictly increasing: ${boundary} follows ${previous}`,
      });
    }
  });
  return { value: { compiled: { ...feature, outputs }, type: 'number', rowFields: [feature.field] }, issues };
}

export function compileCategoricalFeature(
  feature: CategoricalIndexFeature | CategoricalOneHotFeature,
  at: string,
  outputs: readonly string[],
  dataset: SourceDataset,
): Checked<FeatureCompilation> {
  const issues = [...checkFieldReference(dataset, at, feature.field, 'string', 'categorical encoding').issues];
  const { vocabulary } = feature;
  if (vocabulary.length === 0)
    issues.push({ path: `${at}/vocabulary`, message: 'the vocabulary needs at least one category' });
  const fieldSchema = fieldSchemaAt(dataset.recordSchema, feature.field);
  const allowed = fieldSchema ? fieldEnum(fieldSchema) : undefined;
  const seen = new Set<string>();
  vocabulary.forEach((category, i) => {
    if (category.length === 0)
      issues.push({ path: `${at}/vocabulary/${i}`, message: 'a category must be a non-empty string' });
    else if (seen.has(category))
      issues.push({ path: `${at}/vocabulary/${i}`, message: `category "${category}" appears twice` });
    else if (allowed && !allowed.includes(category))
      issues.push({
        path: `${at}/vocabulary/${i}`,
        message: `category "${category}" can never occur: not in the enum of "${feature.field}"`,
      });
    seen.add(category);
  });
  if (feature.encoding === 'one-hot')
    return { value: { compiled: { ...feature, outputs }, type: 'number', rowFields: [feature.field] }, issues };
  const oov = feature.outOfVocabularyIndex ?? vocabulary.length;
  if (!Number.isInteger(oov) || oov < 0)
    issues.push({
      path: `${at}/outOfVocabularyIndex`,
      message: `out-of-vocabulary index ${oov} must be an integer >= 0`,
    });
  else if (oov < vocabulary.length)
    issues.push({
      path: `${at}/outOfVocabularyIndex`,
      message: `out-of-vocabulary index ${oov} collides with category "${vocabulary[oov]}"`,
    });
  return {
    value: { compiled: { ...feature, outOfVocabularyIndex: oov, outputs }, type: 'number', rowFields: [feature.field] },
    issues,
  };
}

export function compileAggregateFeature(
  feature: AggregateFeature,
  at: string,
  outputs: readonly string[],
  dataset: SourceDataset,
): Checked<FeatureCompilation | undefined> {
  const issues = [...checkFieldReference(dataset, at, feature.field, 'number', `aggregate ${feature.function}`).issues];
  const window = checkWindow(feature.window, at);
  issues.push(...window.issues);
  if (!window.value) return { value: undefined, issues };
  const { windowMs, granularityMs } = window.value;
  const aggregation = {
    series: `${feature.field}@${granularityMs}`,
    field: feature.field,
    granularityMs,
    windowMs,
    function: feature.function,
  };
  return { value: { compiled: { ...feature, outputs, aggregation }, type: 'number', rowFields: [] }, issues };
}

// ---------------------------------------------------------------- expressions

export interface ExpressionCompilation extends FeatureCompilation {
  readonly compiled: ExpressionFeature & { readonly outputs: readonly string[]; readonly ast: Expression };
  /** The features it references (index -> position of the first reference). */
  readonly dependsOn: ReadonlyMap<number, number>;
}

/** Parses an expression and resolves each name to a feature of the view or, failing that, a source field. */
export function compileExpressionFeature(
  feature: ExpressionFeature,
  at: string,
  outputs: readonly string[],
  dataset: SourceDataset,
  ownerOfOutput: ReadonlyMap<string, number>,
): Checked<ExpressionCompilation | undefined> {
  const parsed = parseExpression(feature.expression);
  if (!parsed.ok) return { value: undefined, issues: [{ path: `${at}/expression`, message: parsed.error.message }] };
  const issues: DefinitionIssue[] = [];
  const dependsOn = new Map<number, number>();
  const rowFields: string[] = [];
  for (const [name, position] of referencedNames(parsed.value)) {
    const owner = ownerOfOutput.get(name);
    if (owner !== undefined) dependsOn.set(owner, position);
    else if (!fieldSchemaAt(dataset.recordSchema, name)) {
      issues.push({
        path: `${at}/expression`,
        message: `unknown name "${name}" at position ${position}: neither a feature of the view nor a field of "${dataset.name}"`,
      });
    } else if (isSensitive(dataset, name))
      issues.push({
        path: `${at}/expression`,
        message: `field "${name}" at position ${position} is sensitive and may not feed a feature`,
      });
    else rowFields.push(name);
  }
  // Its type is known once what it references is typed (typeExpressions).
  return { value: { compiled: { ...feature, outputs, ast: parsed.value }, type: 'any', rowFields, dependsOn }, issues };
}

/**
 * Indices 0..n-1 ordered so that each comes after its dependencies (declaration order otherwise); each cycle
 * is reported once (at the expression of its first member), and its members are still placed.
 */
export function evaluationOrder(
  features: readonly FeatureDefinition[],
  dependencies: ReadonlyMap<number, ReadonlyMap<number, number>>,
): Checked<number[]> {
  const issues: DefinitionIssue[] = [];
  const state = new Array<'new' | 'visiting' | 'done'>(features.length).fill('new');
  const order: number[] = [];
  const stack: number[] = [];
  const visit = (node: number): void => {
    if (state[node] === 'done') return;
    if (state[node] === 'visiting') {
      const cycle = [...stack.slice(stack.indexOf(node)), node];
      issues.push({
        path: `/features/${cycle[0]}/expression`,
        message: `features form a cycle: ${cycle.map((i) => features[i]?.name ?? String(i)).join(' -> ')}`,
      });
      return;
    }
    state[node] = 'visiting';
    stack.push(node);
    for (const dependency of dependencies.get(node)?.keys() ?? []) visit(dependency);
    stack.pop();
    state[node] = 'done';
    order.push(node);
  };
  for (let i = 0; i < features.length; i++) visit(i);
  return { value: order, issues };
}

/**
 * Type-checks the expressions in evaluation order, each with the types of the features it references and of the
 * source fields; `typeOfFeature` (index -> type) gains the type of each expression.
 */
export function typeExpressions(
  compiled: readonly (CompiledFeature | undefined)[],
  order: readonly number[],
  ownerOfOutput: ReadonlyMap<string, number>,
  typeOfFeature: Map<number, ValueType>,
  dataset: SourceDataset,
): DefinitionIssue[] {
  const issues: DefinitionIssue[] = [];
  for (const index of order) {
    const feature = compiled[index];
    if (!feature || feature.kind !== 'expression') continue;
    const checked = checkExpressionTypes(feature.ast, (name) => {
      const owner = ownerOfOutput.get(name);
      if (owner !== undefined) return typeOfFeature.get(owner) ?? 'any';
      const fieldSchema = fieldSchemaAt(dataset.recordSchema, name);
      return fieldSchema ? fieldValueType(fieldSchema) : 'any';
    });
    checked.errors.forEach((error) => issues.push({ path: `/features/${index}/expression`, message: error.message }));
    typeOfFeature.set(index, checked.type);
  }
  return issues;
}

/** One series per (field, granularity), kept as long as the longest window reading it. */
export function seriesOf(features: readonly (CompiledFeature | undefined)[]): SeriesSpec[] {
  const byKey = new Map<string, SeriesSpec>();
  for (const feature of features) {
    if (feature?.kind !== 'aggregate') continue;
    const { series: key, field, granularityMs, windowMs } = feature.aggregation;
    byKey.set(key, {
      key,
      field,
      granularityMs,
      longestWindowMs: Math.max(byKey.get(key)?.longestWindowMs ?? 0, windowMs),
    });
  }
  return [...byKey.values()];
}
