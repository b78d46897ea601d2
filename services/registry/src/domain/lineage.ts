/** What the lineage and the model card are built from: the registry's own records, nothing hand-written. */
export interface LineageSources {
  readonly model: {
    readonly name: string;
    readonly description: string;
    readonly task: string;
    readonly owner: string;
    readonly tags: Readonly<Record<string, string>>;
  };
  readonly version: {
    readonly version: number;
    readonly source: 'trained' | 'uploaded';
    readonly trainingRunId: string | null;
    readonly algorithm: string;
    readonly description: string;
    readonly artifact: { readonly uri: string; readonly sha256: string; readonly sizeBytes: number };
    readonly signature: {
      readonly featureNames: readonly string[];
      readonly inputs?: readonly {
        readonly name: string;
        readonly dtype: string;
        readonly features: readonly string[];
      }[];
      readonly outputs?: readonly {
        readonly name: string;
        readonly dtype: string;
        readonly shape: readonly number[];
      }[];
      readonly outputName: string;
    };
    readonly featureView: { readonly name: string; readonly version: number };
    readonly metrics: Readonly<Record<string, number>>;
    readonly sliceMetrics: Readonly<Record<string, Readonly<Record<string, number>>>>;
    /** The alias's version scored on this version's holdout when it was trained (absent: not known). */
    readonly champion?: {
      readonly alias: string;
      readonly version: number;
      readonly metrics?: Readonly<Record<string, number>>;
      readonly skipped?: string;
    } | null;
    readonly params: Readonly<Record<string, number | string | boolean>>;
    readonly lineage: Readonly<Record<string, unknown>> | null;
    readonly referenceDistributions: Readonly<Record<string, unknown>>;
    readonly predictionDistribution: object | null;
    readonly trainedAt: string | null;
    readonly createdBy: string;
    readonly createdAt: string;
    readonly status: string;
    readonly gate: { readonly passed?: boolean; readonly reason?: string } | null;
    readonly bad: { readonly reason: string; readonly by: string; readonly at: string } | null;
  };
  readonly deployments: readonly {
    readonly alias: string;
    readonly outcome: 'succeeded' | 'failed';
    readonly instanceId: string;
    readonly promotionEventId: string;
    readonly at: string;
    readonly details: Readonly<Record<string, unknown>>;
  }[];
  /** Moves of every alias of the model, oldest first. */
  readonly aliasHistory: readonly {
    readonly alias: string;
    readonly version: number;
    readonly previousVersion: number | null;
    readonly trigger: string;
    readonly reason: string;
    readonly actor: string;
    readonly at: string;
  }[];
}

interface TrainedLineage {
  snapshotId?: string;
  snapshotUri?: string;
  snapshotSha256?: string;
  codeVersion?: string;
  labels?: { dataset: string; field: string };
  trainingWindow?: { start: string; end: string };
  rows?: { training: number; holdout: number };
  trainingRunId?: string;
  datasets?: readonly string[];
  /** The record schema versions of the training set's datasets (from the snapshot). */
  datasetVersions?: {
    features: { dataset: string; version: number };
    labels: { dataset: string; version: number };
  };
  [key: string]: unknown;
}

/** The datasets a version was trained on: as declared (an upload), else those its training set was built from. */
function datasetsOf(trained: TrainedLineage): readonly string[] {
  if (trained.datasets) return trained.datasets;
  if (trained.datasetVersions)
    return [trained.datasetVersions.features.dataset, trained.datasetVersions.labels.dataset];
  return trained.labels ? [trained.labels.dataset] : [];
}

/**
 * The lineage of a version as one document, upstream to downstream: datasets and labels -> feature view version ->
 * snapshot (id, sha256, window, rows) -> training run (params, seed, code) -> the version -> deployments -> the alias
 * moves that involved it (to it or away from it).
 */
export function lineageDocument(sources: LineageSources): Record<string, unknown> {
  const { model, version } = sources;
  const trained = (version.lineage ?? {}) as TrainedLineage;
  const seed = version.params['seed'] ?? null;
  const aliasHistory = sources.aliasHistory
    .filter((move) => move.version === version.version || move.previousVersion === version.version)
    .map((move) => ({ ...move, direction: move.version === version.version ? 'to' : 'away' }));
  return {
    model: model.name,
    version: version.version,
    source: version.source,
    data: {
      labels: trained.labels ?? null,
      datasets: datasetsOf(trained),
      datasetVersions: trained.datasetVersions ?? null,
      featureView: version.featureView,
    },
    snapshot:
      version.source === 'trained'
        ? {
            id: trained.snapshotId ?? null,
            uri: trained.snapshotUri ?? null,
            sha256: trained.snapshotSha256 ?? null,
            window: trained.trainingWindow ?? null,
            rows: trained.rows ?? null,
          }
        : null,
    trainingRun:
      version.source === 'trained'
        ? {
            id: version.trainingRunId,
            algorithm: version.algorithm,
            params: version.params,
            seed,
            codeVersion: trained.codeVersion ?? null,
            trainedAt: version.trainedAt,
          }
        : null,
    upload: version.source === 'uploaded' ? { by: version.createdBy, at: version.createdAt, declared: trained } : null,
    modelVersion: {
      version: version.version,
      artifact: version.artifact,
      status: version.status,
      createdBy: version.createdBy,
      createdAt: version.createdAt,
      gate: version.gate,
      bad: version.bad,
    },
    deployments: sources.deployments,
    aliasHistory,
  };
}

const fmt = (value: unknown): string =>
  typeof value === 'number'
    ? String(Math.round(value * 1e4) / 1e4)
    : value === null || value === undefined
      ? '-'
      : String(value);

/** Share of positives in a categorical label histogram ("true"/"1"), when the reference distributions carry one. */
function labelBalance(
  distributions: Readonly<Record<string, unknown>>,
  field: string | undefined,
): Record<string, number> | null {
  if (field === undefined) return null;
  const histogram = distributions[field] as { kind?: string; counts?: Record<string, number> } | undefined;
  if (histogram?.kind !== 'categorical' || !histogram.counts) return null;
  return { ...histogram.counts };
}

/** Slices with their gap to the overall value of each metric. */
function sliceGaps(
  metrics: Readonly<Record<string, number>>,
  slices: Readonly<Record<string, Readonly<Record<string, number>>>>,
): Array<{ slice: string; metric: string; value: number; overall: number | null; gap: number | null }> {
  const rows: Array<{ slice: string; metric: string; value: number; overall: number | null; gap: number | null }> = [];
  for (const [slice, values] of Object.entries(slices)) {
    for (const [metric, value] of Object.entries(values)) {
      const overall = metrics[metric] ?? null;
      rows.push({ slice, metric, value, overall, gap: overall === null ? null : value - overall });
    }
  }
  return rows;
}

/** The model card of a version as JSON, generated from the registry's records. */
export function modelCard(sources: LineageSources): Record<string, unknown> {
  const { model, version } = sources;
  const trained = (version.lineage ?? {}) as TrainedLineage;
  const limits: string[] = [];
  if (version.source === 'uploaded')
    limits.push('trained outside the platform: training data and holdout are as declared by the uploader');
  if (Object.keys(version.sliceMetrics).length === 0)
    limits.push('no per-slice metrics: behaviour on sub-populations is unmeasured');
  if (trained.trainingWindow) {
    limits.push(
      `trained on labels from ${trained.trainingWindow.start} to ${trained.trainingWindow.end}; later behaviour may drift`,
    );
  }
  if (trained.rows && trained.rows.holdout < 1000)
    limits.push(`small holdout (${trained.rows.holdout} rows): metrics are noisy`);
  if (version.bad) limits.push(`marked bad by ${version.bad.by} at ${version.bad.at}: ${version.bad.reason}`);
  const current = new Map<string, number>();
  for (const move of sources.aliasHistory) current.set(move.alias, move.version);
  return {
    model: model.name,
    version: version.version,
    intendedUse: {
      task: model.task,
      description: version.description || model.description || null,
      owner: model.owner,
      tags: model.tags,
    },
    trainingData: {
      source: version.source,
      datasets: datasetsOf(trained),
      datasetVersions: trained.datasetVersions ?? null,
      labels: trained.labels ?? null,
      featureView: version.featureView,
      features: version.signature.featureNames,
      window: trained.trainingWindow ?? null,
      rows: trained.rows ?? null,
      snapshotSha256: trained.snapshotSha256 ?? null,
      labelBalance: labelBalance(version.referenceDistributions, trained.labels?.field),
    },
    algorithm: version.algorithm,
    params: version.params,
    metrics: version.metrics,
    slices: sliceGaps(version.metrics, version.sliceMetrics),
    champion: version.champion ?? null,
    gate: version.gate,
    status: version.status,
    aliases: [...current.entries()].filter(([, v]) => v === version.version).map(([alias]) => alias),
    deployments: sources.deployments.length,
    knownLimits: limits,
    artifact: version.artifact,
    generatedFrom: 'registry records (model, version, gate, alias history, deployments)',
  };
}

/** The same card as Markdown, for people. */
export function modelCardMarkdown(card: Record<string, unknown>): string {
  const use = card['intendedUse'] as { task: string; description: string | null; owner: string };
  const data = card['trainingData'] as {
    source: string;
    datasets: string[];
    labels: { dataset: string; field: string } | null;
    featureView: { name: string; version: number };
    features: string[];
    window: { start: string; end: string } | null;
    rows: { training: number; holdout: number } | null;
    snapshotSha256: string | null;
    labelBalance: Record<string, number> | null;
  };
  const metrics = card['metrics'] as Record<string, number>;
  const slices = card['slices'] as Array<{ slice: string; metric: string; value: number; gap: number | null }>;
  const gate = card['gate'] as { passed?: boolean; reason?: string } | null;
  const champion = card['champion'] as {
    alias: string;
    version: number;
    metrics?: Record<string, number>;
    skipped?: string;
  } | null;
  const lines = [
    `# Model card: ${String(card['model'])} version ${String(card['version'])}`,
    '',
    '## Intended use',
    `- Task: ${use.task}`,
    `- Owner: ${use.owner}`,
    `- Description: ${use.description ?? '-'}`,
    `- Status: ${String(card['status'])}; aliases: ${(card['aliases'] as string[]).join(', ') || '-'}`,
    '',
    '## Training data',
    `- Source: ${data.source}`,
    `- Datasets: ${data.datasets.join(', ') || '-'}; labels: ${data.labels ? `${data.labels.dataset}.${data.labels.field}` : '-'}`,
    `- Feature view: ${data.featureView.name} v${data.featureView.version} (${data.features.join(', ')})`,
    `- Window: ${data.window ? `${data.window.start} .. ${data.window.end}` : '-'}`,
    `- Rows: ${data.rows ? `${data.rows.training} training, ${data.rows.holdout} holdout` : '-'}`,
    `- Snapshot sha256: ${data.snapshotSha256 ?? '-'}`,
    `- Label balance: ${
      data.labelBalance
        ? Object.entries(data.labelBalance)
            .map(([k, v]) => `${k}: ${v}`)
            .join(', ')
        : '-'
    }`,
    '',
    '## Metrics',
    '| metric | value |',
    '| --- | --- |',
    ...Object.entries(metrics).map(([name, value]) => `| ${name} | ${fmt(value)} |`),
    '',
    '## Slices',
    ...(slices.length === 0
      ? ['None measured.']
      : [
          '| slice | metric | value | gap to overall |',
          '| --- | --- | --- | --- |',
          ...slices.map((s) => `| ${s.slice} | ${s.metric} | ${fmt(s.value)} | ${fmt(s.gap)} |`),
        ]),
    '',
    '## Champion on the same holdout',
    champion === null
      ? 'None: no version was promoted when it was trained, or it was not trained on the platform.'
      : champion.metrics
        ? `${champion.alias} version ${champion.version} on this version's holdout: ${Object.entries(champion.metrics)
            .map(([name, value]) => `${name} ${fmt(value)}`)
            .join(', ')}`
        : `${champion.alias} version ${champion.version} not scored: ${champion.skipped ?? '-'}`,
    '',
    '## Promotion gate',
    gate
      ? `${gate.passed ? 'Passed' : 'Did not pass'}: ${gate.reason ?? '-'}`
      : 'Not evaluated (uploaded, or promoted by hand).',
    '',
    '## Known limits',
    ...((card['knownLimits'] as string[]).length === 0
      ? ['None recorded.']
      : (card['knownLimits'] as string[]).map((l) => `- ${l}`)),
    '',
  ];
  return lines.join('\n');
}
