// Our catalog as MLflow's registry entities (the JSON of mlflow.protos.model_registry_pb2).
import type { AliasRecord, ModelRecord, VersionRecord } from '../infrastructure/catalog-store';

export type MlflowStage = 'None' | 'Staging' | 'Production' | 'Archived';
export const MLFLOW_STAGES: readonly MlflowStage[] = ['None', 'Staging', 'Production', 'Archived'];

/**
 * MLflow's (deprecated) stage of a version, read from our aliases: `Production` when alias `production` points at
 * it, `Staging` when `staging` does, `Archived` when it is marked bad or the gate rejected it, `None` otherwise.
 */
export function stageOf(version: VersionRecord, aliases: readonly AliasRecord[]): MlflowStage {
  const pointing = aliases.filter((a) => a.version === version.version).map((a) => a.alias);
  if (pointing.includes('production')) return 'Production';
  if (pointing.includes('staging')) return 'Staging';
  if (version.bad !== null || version.status === 'bad' || version.status === 'rejected') return 'Archived';
  return 'None';
}

/** MLflow's run id of a trained version: the trainer tracks each training run under its id without dashes. */
export const runIdOf = (version: VersionRecord): string => version.trainingRunId?.replace(/-/g, '') ?? '';

const millis = (iso: string): number => new Date(iso).getTime();

/** The version's own tags plus what MLflow has no field for, under `mlops.` (read only). */
export function versionTagsOf(version: VersionRecord): Record<string, string> {
  return {
    ...version.tags,
    'mlops.status': version.status,
    'mlops.source': version.source,
    'mlops.algorithm': version.algorithm,
    'mlops.artifact_sha256': version.artifact.sha256,
    ...(version.trainingRunId ? { 'mlops.training_run_id': version.trainingRunId } : {}),
  };
}

const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([key, value]) => ({ key, value }));

export function modelVersionView(version: VersionRecord, aliases: readonly AliasRecord[]): Record<string, unknown> {
  return {
    name: version.model,
    version: String(version.version),
    creation_timestamp: millis(version.createdAt),
    last_updated_timestamp: millis(version.createdAt),
    user_id: version.createdBy,
    current_stage: stageOf(version, aliases),
    description: version.description,
    source: version.artifact.uri,
    run_id: runIdOf(version),
    status: 'READY',
    tags: tagList(versionTagsOf(version)),
    aliases: aliases.filter((a) => a.version === version.version).map((a) => a.alias),
  };
}

/** The newest version in each stage (all stages when `stages` is empty), newest first. */
export function latestPerStage(
  versions: readonly VersionRecord[],
  aliases: readonly AliasRecord[],
  stages: readonly string[] = [],
): VersionRecord[] {
  const wanted = new Set(stages.map((s) => s.toLowerCase()));
  const latest = new Map<MlflowStage, VersionRecord>();
  for (const version of versions) {
    const stage = stageOf(version, aliases);
    if (wanted.size > 0 && !wanted.has(stage.toLowerCase())) continue;
    const seen = latest.get(stage);
    if (!seen || seen.version < version.version) latest.set(stage, version);
  }
  return [...latest.values()].sort((a, b) => b.version - a.version);
}

export function registeredModelView(
  model: ModelRecord,
  aliases: readonly AliasRecord[],
  versions: readonly VersionRecord[],
): Record<string, unknown> {
  return {
    name: model.name,
    creation_timestamp: millis(model.createdAt),
    last_updated_timestamp: millis(model.updatedAt),
    user_id: model.owner,
    description: model.description,
    latest_versions: latestPerStage(versions, aliases).map((v) => modelVersionView(v, aliases)),
    tags: tagList(model.tags),
    aliases: aliases.map((a) => ({ alias: a.alias, version: String(a.version) })),
  };
}
