import { type Result, err, ok } from '@mlops/core';
import type { DurationInput } from './duration';
import type { Expression, ValueType } from './expression';
import {
  type Checked,
  type ExpressionCompilation,
  type FeatureCompilation,
  type FeatureOutputs,
  checkFeatureOutputs,
  checkSource,
  checkTtl,
  checkViewIdentity,
  compileAggregateFeature,
  compileBucketizeFeature,
  compileCategoricalFeature,
  compileExpressionFeature,
  compileFieldFeature,
  compileLogFeature,
  evaluationOrder,
  seriesOf,
  typeExpressions,
} from './feature-view-rules';
import type { RecordSchema } from './record-schema';

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

// ---------------------------------------------------------------- validation

/**
 * The compiled view, or every reason the definition does not fit the dataset (not just the first): bad names,
 * unknown or sensitive fields, fields of the wrong type for their transform, bad boundaries or vocabularies, bad
 * durations, expression parse/type errors, unknown names, cycles, duplicate outputs. The definition has the
 * shape of FeatureViewDefinition (the request schema checks that); the rules live in feature-view-rules.ts.
 */
export function validateFeatureView(
  definition: FeatureViewDefinition,
  dataset: SourceDataset,
): Result<FeatureView, DefinitionIssue[]> {
  const issues: DefinitionIssue[] = [...checkViewIdentity(definition.name, definition.version)];
  const source = checkSource(definition.source, dataset);
  const ttl = checkTtl(definition.ttl);
  // Outputs first, so that expressions may reference any feature (declaration order is free).
  const outputs = checkFeatureOutputs(definition.features);
  issues.push(...source.issues, ...ttl.issues, ...outputs.issues);

  const compiled: (CompiledFeature | undefined)[] = [];
  const typeOfFeature = new Map<number, ValueType>();
  const dependencies = new Map<number, ReadonlyMap<number, number>>();
  const rowFields = new Set<string>();
  definition.features.forEach((feature, index) => {
    const result = compileFeature(feature, index, outputs.value, dataset);
    issues.push(...result.issues);
    compiled[index] = result.value?.compiled;
    // A feature that did not compile still has its kind's type, so that expressions over it are checked.
    typeOfFeature.set(index, result.value?.type ?? (feature.kind === 'expression' ? 'any' : 'number'));
    result.value?.rowFields.forEach((field) => rowFields.add(field));
    if (result.value && 'dependsOn' in result.value) dependencies.set(index, result.value.dependsOn);
  });

  const order = evaluationOrder(definition.features, dependencies);
  issues.push(
    ...order.issues,
    ...typeExpressions(compiled, order.value, outputs.value.ownerOfOutput, typeOfFeature, dataset),
  );

  if (issues.length > 0 || ttl.value === undefined) return err(issues);
  const series = seriesOf(compiled);
  return ok({
    name: definition.name,
    version: definition.version,
    source: source.value,
    ttlMs: ttl.value,
    features: order.value.map((i) => compiled[i]!),
    outputNames: outputs.value.outputNames,
    series,
    horizonMs: Math.max(0, ...series.map((s) => s.longestWindowMs)),
    rowFields: [...rowFields],
    definition,
  });
}

function compileFeature(
  feature: FeatureDefinition,
  index: number,
  outputs: FeatureOutputs,
  dataset: SourceDataset,
): Checked<FeatureCompilation | ExpressionCompilation | undefined> {
  const at = `/features/${index}`;
  const produced = outputs.outputsOf[index]!;
  switch (feature.kind) {
    case 'field':
      return compileFieldFeature(feature, at, produced, dataset);
    case 'log':
      return compileLogFeature(feature, at, produced, dataset);
    case 'bucketize':
      return compileBucketizeFeature(feature, at, produced, dataset);
    case 'categorical':
      return compileCategoricalFeature(feature, at, produced, dataset);
    case 'aggregate':
      return compileAggregateFeature(feature, at, produced, dataset);
    case 'expression':
      return compileExpressionFeature(feature, at, produced, dataset, outputs.ownerOfOutput);
  }
}
