// The champion (the version an alias points at) scored on the candidate's holdout: the same rows, the same metrics,
// so the registry's gate compares both on the same data. Builds the champion's ONNX inputs from its own signature. Pure.
import { type Result, err, ok } from '@mlops/core';
import type { OnnxFeed, RawTable } from '@mlops/ml';

/** How to call the champion, as `mlops.model.promoted.v1` carries it (`inputs` absent: one float tensor). */
export interface ChampionSignature {
  readonly inputName: string;
  readonly inputDtype: 'float32' | 'float64';
  readonly featureNames: readonly string[];
  readonly outputName: string;
  readonly inputs?: readonly {
    readonly name: string;
    readonly dtype: 'float32' | 'string';
    readonly features: readonly string[];
  }[];
}

/** What the trainer says of the champion: its holdout metrics, or why it has none. */
export type ChampionEvaluation = { readonly metrics: Record<string, number> } | { readonly skipped: string };

/**
 * The champion's inputs for the holdout rows: each input of its signature from the snapshot's columns by name
 * (float32 tensors from numeric columns, NaN = missing; string tensors from categorical ones, '' = missing). An error
 * names what the snapshot lacks: a feature, or a feature of another kind than the champion was trained on.
 */
export function championFeeds(table: RawTable, signature: ChampionSignature): Result<Record<string, OnnxFeed>, string> {
  if (signature.inputDtype !== 'float32')
    return err(`the champion takes ${signature.inputDtype} input; only float32 models are scored`);
  const inputs = signature.inputs ?? [
    { name: signature.inputName, dtype: 'float32' as const, features: signature.featureNames },
  ];
  const byName = new Map(table.columns.map((column) => [column.name, column]));
  const missing = inputs.flatMap((input) => input.features).filter((feature) => !byName.has(feature));
  if (missing.length > 0)
    return err(`the snapshot lacks the feature(s) ${missing.join(', ')} the champion's signature names`);
  const feeds: Record<string, OnnxFeed> = {};
  for (const input of inputs) {
    if (input.dtype === 'float32') {
      const matrix = new Float32Array(table.rows * input.features.length);
      for (const [c, feature] of input.features.entries()) {
        const column = byName.get(feature);
        if (column?.kind !== 'numeric')
          return err(`feature ${feature} is categorical in the snapshot; the champion takes it as a number`);
        for (let r = 0; r < table.rows; r++) matrix[r * input.features.length + c] = column.values[r] as number;
      }
      feeds[input.name] = { type: 'float32', data: matrix, dims: [table.rows, input.features.length] };
    } else {
      if (input.features.length !== 1)
        return err(`string input ${input.name} carries ${input.features.length} features; one expected`);
      const feature = input.features[0] as string;
      const column = byName.get(feature);
      if (column?.kind !== 'categorical')
        return err(`feature ${feature} is numeric in the snapshot; the champion takes it as a category`);
      feeds[input.name] = { type: 'string', data: column.values.map((value) => value ?? ''), dims: [table.rows, 1] };
    }
  }
  return ok(feeds);
}
