import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { type ArtifactStore, ArtifactNotFoundError } from '@mlops/artifacts';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { type Clause, matches, offsetOf, orderOf, pageTokenOf, parseFilter, parseOrderBy } from '../domain/run-search';
import {
  type DatasetInput,
  type Experiment,
  type KeyValue,
  type LifecycleStage,
  type MetricPoint,
  PARENT_RUN_TAG,
  RUN_NAME_TAG,
  RUN_STATUSES,
  type StoredArtifact,
  type TrackedRun,
  type TrackedRunInfo,
  type TrackedRunStatus,
  USER_TAG,
  runArtifactUri,
  searchableExperiment,
  searchableRun,
} from '../domain/tracking';
import { TrackingStore } from '../infrastructure/tracking-store';
import { ARTIFACT_STORE } from '../tokens';

export type TrackingErrorKind = 'not_found' | 'already_exists' | 'invalid_parameter' | 'invalid_state';
export type TrackingError = DomainError<TrackingErrorKind>;

const notFound = (message: string): TrackingError => domainError('not_found', message);
const invalid = (message: string): TrackingError => domainError('invalid_parameter', message);

export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
const MAX_KEY = 250;
const MAX_PARAM_VALUE = 6000;
const MAX_TAG_VALUE = 8000;
export const MAX_SEARCH_RESULTS = 50_000;

function stagesOf(view: ViewType | undefined): LifecycleStage[] {
  if (view === 'DELETED_ONLY') return ['deleted'];
  if (view === 'ALL') return ['active', 'deleted'];
  return ['active'];
}

function checkKeys(kind: string, items: readonly KeyValue[], maxValue: number): TrackingError | undefined {
  for (const item of items) {
    if (item.key === '' || item.key.length > MAX_KEY)
      return invalid(`${kind} key "${item.key.slice(0, 40)}" must have 1 to ${MAX_KEY} characters`);
    if (item.value.length > maxValue)
      return invalid(`${kind} "${item.key}" has a value of ${item.value.length} characters; at most ${maxValue}`);
  }
  return undefined;
}

export interface ArtifactPath {
  readonly experimentId: string;
  readonly runId: string;
  readonly path: string;
}

/**
 * Experiment tracking, MLflow's model: what the MLflow REST controllers and our own HTTP API call. Expected
 * failures are values; the MLflow controllers turn them into MLflow's error codes.
 */
@Injectable()
export class TrackingService {
  constructor(
    private readonly store: TrackingStore,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
  ) {}

  private get manager(): EntityManager {
    return this.store.dataSource.manager;
  }

  async experimentByName(name: string): Promise<Result<Experiment, TrackingError>> {
    const experiment = await this.store.experimentByName(this.manager, name);
    return experiment ? ok(experiment) : err(notFound(`Could not find experiment with name '${name}'`));
  }

  async experiment(id: string): Promise<Result<Experiment, TrackingError>> {
    const experiment = await this.store.experimentById(this.manager, id);
    return experiment ? ok(experiment) : err(notFound(`No Experiment with id=${id} exists`));
  }

  async createExperiment(
    request: { name: string; artifactLocation?: string; tags: readonly KeyValue[] },
    createdBy: string,
    now = Date.now(),
  ): Promise<Result<string, TrackingError>> {
    if (request.name.trim() === '') return err(invalid('Invalid experiment name: the name is empty'));
    const tagProblem = checkKeys('tag', request.tags, MAX_TAG_VALUE);
    if (tagProblem) return err(tagProblem);
    const id = await this.store.createExperiment(
      this.manager,
      {
        name: request.name,
        ...(request.artifactLocation ? { artifactLocation: request.artifactLocation } : {}),
        tags: Object.fromEntries(request.tags.map((t) => [t.key, t.value])),
        createdBy,
      },
      now,
    );
    return id === undefined
      ? err(domainError('already_exists', `Experiment '${request.name}' already exists.`))
      : ok(id);
  }

  async setExperimentTag(id: string, tag: KeyValue): Promise<Result<void, TrackingError>> {
    const found = await this.experiment(id);
    if (!found.ok) return found;
    const problem = checkKeys('tag', [tag], MAX_TAG_VALUE);
    if (problem) return err(problem);
    await this.store.setExperimentTag(this.manager, id, tag.key, tag.value, Date.now());
    return ok(undefined);
  }

  async searchExperiments(request: {
    filter?: string;
    orderBy?: readonly string[];
    maxResults?: number;
    pageToken?: string;
    viewType?: ViewType;
  }): Promise<Result<{ experiments: Experiment[]; nextPageToken?: string }, TrackingError>> {
    const clauses = parseFilter(request.filter);
    if (!clauses.ok) return err(invalid(`Invalid filter '${request.filter ?? ''}': ${clauses.error.message}`));
    const order = parseOrderBy(request.orderBy);
    if (!order.ok) return err(invalid(order.error.message));
    const offset = offsetOf(request.pageToken);
    if (!offset.ok) return err(invalid(offset.error.message));
    const stages = stagesOf(request.viewType);
    const all = (await this.store.experiments(this.manager))
      .filter((e) => stages.includes(e.lifecycleStage))
      .map((e) => ({ experiment: e, ...searchableExperiment(e) }))
      .filter((e) => matches(e, clauses.value))
      .sort(
        orderOf(order.value, (a, b) =>
          b.experiment.creationTime !== a.experiment.creationTime
            ? b.experiment.creationTime - a.experiment.creationTime
            : a.experiment.experimentId.localeCompare(b.experiment.experimentId),
        ),
      );
    return ok(this.page(all, offset.value, request.maxResults ?? 1000, (e) => e.experiment, 'experiments'));
  }

  private page<T, V, K extends string>(
    items: readonly T[],
    offset: number,
    maxResults: number,
    view: (item: T) => V,
    name: K,
  ): { [P in K]: V[] } & { nextPageToken?: string } {
    const end = offset + Math.min(maxResults, MAX_SEARCH_RESULTS);
    const page = { [name]: items.slice(offset, end).map(view) } as { [P in K]: V[] };
    return end < items.length ? { ...page, nextPageToken: pageTokenOf(end) } : page;
  }

  async createRun(
    request: {
      experimentId?: string;
      userId?: string;
      startTime?: number;
      runName?: string;
      tags: readonly KeyValue[];
    },
    actor: string,
  ): Promise<Result<TrackedRun, TrackingError>> {
    const experimentId = request.experimentId ?? '0';
    const experiment = await this.store.experimentById(this.manager, experimentId);
    if (!experiment) return err(notFound(`No Experiment with id=${experimentId} exists`));
    if (experiment.lifecycleStage !== 'active')
      return err(domainError('invalid_state', `The experiment ${experimentId} must be in the 'active' state.`));
    const tagProblem = checkKeys('tag', request.tags, MAX_TAG_VALUE);
    if (tagProblem) return err(tagProblem);
    const tagged = new Map(request.tags.map((t) => [t.key, t.value]));
    const parentRunId = tagged.get(PARENT_RUN_TAG) ?? null;
    if (parentRunId !== null && !(await this.store.runInfo(this.manager, parentRunId)))
      return err(notFound(`Run with id=${parentRunId} (the parent) not found`));
    const runId = randomUUID().replace(/-/g, '');
    const runName = request.runName || tagged.get(RUN_NAME_TAG) || `run-${runId.slice(0, 8)}`;
    const userId = request.userId || tagged.get(USER_TAG) || actor;
    tagged.set(RUN_NAME_TAG, runName);
    await this.store.dataSource.transaction(async (manager) => {
      await this.store.createRun(manager, {
        runId,
        experimentId,
        runName,
        userId,
        status: 'RUNNING',
        startTime: request.startTime ?? Date.now(),
        artifactUri: runArtifactUri(experimentId, runId),
        parentRunId,
        trainingRunId: null,
        reason: null,
      });
      await this.store.setTags(
        manager,
        runId,
        [...tagged].map(([key, value]) => ({ key, value })),
      );
    });
    return this.run(runId);
  }

  async run(runId: string): Promise<Result<TrackedRun, TrackingError>> {
    const run = await this.store.run(this.manager, runId);
    return run ? ok(run) : err(notFound(`Run with id=${runId} not found`));
  }

  async children(runId: string): Promise<Result<TrackedRun[], TrackingError>> {
    const info = await this.store.runInfo(this.manager, runId);
    if (!info) return err(notFound(`Run with id=${runId} not found`));
    return ok(await this.store.childrenOf(this.manager, runId));
  }

  async updateRun(request: {
    runId: string;
    status?: string;
    endTime?: number;
    runName?: string;
  }): Promise<Result<TrackedRunInfo, TrackingError>> {
    const info = await this.store.runInfo(this.manager, request.runId);
    if (!info) return err(notFound(`Run with id=${request.runId} not found`));
    if (request.status !== undefined && !(RUN_STATUSES as readonly string[]).includes(request.status))
      return err(invalid(`Invalid run status '${request.status}'; one of ${RUN_STATUSES.join(', ')}`));
    const status = request.status as TrackedRunStatus | undefined;
    await this.store.dataSource.transaction(async (manager) => {
      await this.store.updateRun(manager, request.runId, {
        ...(status ? { status } : {}),
        ...(request.endTime !== undefined ? { endTime: request.endTime } : {}),
        ...(request.runName ? { runName: request.runName } : {}),
      });
      if (request.runName)
        await this.store.setTags(manager, request.runId, [{ key: RUN_NAME_TAG, value: request.runName }]);
    });
    return ok((await this.store.runInfo(this.manager, request.runId)) as TrackedRunInfo);
  }

  /** Params, metrics and tags of one run, all or nothing. */
  async logBatch(
    runId: string,
    batch: { metrics: readonly MetricPoint[]; params: readonly KeyValue[]; tags: readonly KeyValue[] },
  ): Promise<Result<void, TrackingError>> {
    const problem =
      checkKeys('param', batch.params, MAX_PARAM_VALUE) ??
      checkKeys('tag', batch.tags, MAX_TAG_VALUE) ??
      checkKeys(
        'metric',
        batch.metrics.map((m) => ({ key: m.key, value: '' })),
        0,
      );
    if (problem) return err(problem);
    const duplicates = new Map<string, string>();
    for (const param of batch.params) {
      const seen = duplicates.get(param.key);
      if (seen !== undefined && seen !== param.value)
        return err(invalid(`Duplicate parameter keys have been submitted: ${param.key}`));
      duplicates.set(param.key, param.value);
    }
    return this.store.dataSource
      .transaction(async (manager): Promise<Result<void, TrackingError>> => {
        const inactive = await this.lockActiveRun(manager, runId);
        if (inactive) return err(inactive);
        const conflicts = await this.store.logParams(manager, runId, batch.params);
        const conflict = conflicts[0];
        if (conflict) {
          const wanted = batch.params.find((p) => p.key === conflict.key)?.value ?? '';
          // Rolls the whole batch back: MLflow refuses to change a logged param.
          throw new ParamConflict(
            invalid(
              `Changing param values is not allowed. Param with key='${conflict.key}' was already logged with value='${conflict.value}' for run ID='${runId}'. Attempted logging new value '${wanted}'.`,
            ),
          );
        }
        await this.store.logMetrics(manager, runId, batch.metrics);
        await this.store.setTags(manager, runId, batch.tags);
        return ok(undefined);
      })
      .catch((error: unknown) => {
        if (error instanceof ParamConflict) return err(error.error);
        throw error;
      });
  }

  /** Locks the run for the rest of the transaction; why it cannot be logged to (unknown, deleted), if it cannot. */
  private async lockActiveRun(manager: EntityManager, runId: string): Promise<TrackingError | undefined> {
    const info = await this.store.runInfo(manager, runId, true);
    if (!info) return notFound(`Run with id=${runId} not found`);
    if (info.lifecycleStage !== 'active')
      return invalid(`The run ${runId} must be in the 'active' state. Current state is ${info.lifecycleStage}.`);
    return undefined;
  }

  /** MLflow's log_inputs: the datasets a run used, on an active run. */
  async logInputs(runId: string, inputs: readonly DatasetInput[]): Promise<Result<void, TrackingError>> {
    for (const { dataset, tags } of inputs) {
      if (dataset.name === '' || dataset.digest === '')
        return err(invalid('a dataset input needs a name and a digest'));
      const problem = checkKeys('input tag', tags, MAX_TAG_VALUE);
      if (problem) return err(problem);
    }
    return this.store.dataSource.transaction(async (manager): Promise<Result<void, TrackingError>> => {
      const inactive = await this.lockActiveRun(manager, runId);
      if (inactive) return err(inactive);
      await this.store.logInputs(manager, runId, inputs, Date.now());
      return ok(undefined);
    });
  }

  async deleteTag(runId: string, key: string): Promise<Result<void, TrackingError>> {
    const info = await this.store.runInfo(this.manager, runId);
    if (!info) return err(notFound(`Run with id=${runId} not found`));
    if (!(await this.store.deleteTag(this.manager, runId, key)))
      return err(notFound(`No tag with name: ${key} in run with id ${runId}`));
    return ok(undefined);
  }

  async metricHistory(runId: string, key: string): Promise<Result<MetricPoint[], TrackingError>> {
    const info = await this.store.runInfo(this.manager, runId);
    if (!info) return err(notFound(`Run with id=${runId} not found`));
    return ok(await this.store.metricHistory(this.manager, runId, key));
  }

  async searchRuns(request: {
    experimentIds: readonly string[];
    filter?: string;
    orderBy?: readonly string[];
    maxResults?: number;
    pageToken?: string;
    viewType?: ViewType;
  }): Promise<Result<{ runs: TrackedRun[]; nextPageToken?: string }, TrackingError>> {
    const clauses = parseFilter(request.filter);
    if (!clauses.ok) return err(invalid(`Invalid filter '${request.filter ?? ''}': ${clauses.error.message}`));
    const order = parseOrderBy(request.orderBy);
    if (!order.ok) return err(invalid(order.error.message));
    const offset = offsetOf(request.pageToken);
    if (!offset.ok) return err(invalid(offset.error.message));
    const maxResults = request.maxResults ?? 1000;
    if (maxResults > MAX_SEARCH_RESULTS)
      return err(invalid(`Invalid value ${maxResults} for parameter 'max_results': at most ${MAX_SEARCH_RESULTS}`));
    const runs = await this.store.runsOf(this.manager, request.experimentIds, stagesOf(request.viewType));
    const found = this.filterRuns(runs, clauses.value).sort(
      orderOf(order.value, (a, b) =>
        b.run.info.startTime !== a.run.info.startTime
          ? b.run.info.startTime - a.run.info.startTime
          : a.run.info.runId.localeCompare(b.run.info.runId),
      ),
    );
    return ok(this.page(found, offset.value, maxResults, (item) => item.run, 'runs'));
  }

  private filterRuns(runs: readonly TrackedRun[], clauses: readonly Clause[]) {
    return runs.map((run) => ({ run, ...searchableRun(run) })).filter((item) => matches(item, clauses));
  }

  /** `<experiment>/<run>/artifacts/<path>`, the layout of the artifact_uri our runs get. */
  artifactPathOf(proxyPath: string): Result<ArtifactPath, TrackingError> {
    const parts = proxyPath.split('/').filter((part) => part !== '');
    const [experimentId, runId, root, ...rest] = parts;
    if (!experimentId || !runId || root !== 'artifacts')
      return err(invalid(`Artifact path '${proxyPath}' is not of the form <experiment_id>/<run_id>/artifacts/<path>`));
    if (rest.some((part) => part === '..' || part === '.'))
      return err(invalid(`Invalid artifact path '${proxyPath}': no '.' or '..' segments`));
    return ok({ experimentId, runId, path: rest.join('/') });
  }

  private async runOfArtifact(where: ArtifactPath): Promise<Result<TrackedRunInfo, TrackingError>> {
    const info = await this.store.runInfo(this.manager, where.runId);
    if (!info || info.experimentId !== where.experimentId)
      return err(notFound(`Run with id=${where.runId} not found in experiment ${where.experimentId}`));
    return ok(info);
  }

  /** Stores an uploaded artifact in the artifact store and records it on its run. */
  async putArtifact(
    proxyPath: string,
    bytes: Buffer,
    mediaType: string,
  ): Promise<Result<StoredArtifact, TrackingError>> {
    const where = this.artifactPathOf(proxyPath);
    if (!where.ok) return where;
    if (where.value.path === '') return err(invalid('An artifact upload needs a file path after artifacts/'));
    const run = await this.runOfArtifact(where.value);
    if (!run.ok) return run;
    const stored = await this.artifacts.put(bytes, {
      mediaType,
      name: where.value.path.split('/').at(-1) ?? 'artifact',
    });
    const artifact: StoredArtifact = {
      path: where.value.path,
      uri: stored.uri,
      sha256: stored.sha256,
      sizeBytes: stored.sizeBytes,
      mediaType,
    };
    await this.store.putArtifact(this.manager, where.value.runId, artifact, new Date());
    return ok(artifact);
  }

  /** Records an artifact already in the artifact store (our own runs: the ONNX model) on a run. */
  async recordArtifact(manager: EntityManager, runId: string, artifact: StoredArtifact): Promise<void> {
    await this.store.putArtifact(manager, runId, artifact, new Date());
  }

  async artifact(proxyPath: string): Promise<Result<{ artifact: StoredArtifact; bytes: Buffer }, TrackingError>> {
    const where = this.artifactPathOf(proxyPath);
    if (!where.ok) return where;
    const run = await this.runOfArtifact(where.value);
    if (!run.ok) return run;
    const artifact = (await this.store.artifactsOf(this.manager, where.value.runId)).find(
      (a) => a.path === where.value.path,
    );
    if (!artifact) return err(notFound(`No artifact '${where.value.path}' in run ${where.value.runId}`));
    try {
      return ok({ artifact, bytes: await this.artifacts.get(artifact.uri) });
    } catch (error) {
      if (error instanceof ArtifactNotFoundError)
        return err(notFound(`The artifact '${where.value.path}' is missing from the artifact store`));
      throw error;
    }
  }

  /** The files and directories directly under a path of a run's artifacts. */
  async listArtifacts(
    proxyPath: string,
  ): Promise<Result<Array<{ path: string; isDir: boolean; fileSize?: number }>, TrackingError>> {
    const where = this.artifactPathOf(proxyPath);
    if (!where.ok) return where;
    const run = await this.runOfArtifact(where.value);
    if (!run.ok) return run;
    return ok(listing(await this.store.artifactsOf(this.manager, where.value.runId), where.value.path));
  }

  async artifactsOfRun(runId: string): Promise<StoredArtifact[]> {
    return this.store.artifactsOf(this.manager, runId);
  }
}

class ParamConflict extends Error {
  constructor(readonly error: TrackingError) {
    super(error.message);
  }
}

/** Direct children of `under` among artifact paths, relative to it: files with their size, directories once. */
export function listing(
  artifacts: readonly StoredArtifact[],
  under: string,
): Array<{ path: string; isDir: boolean; fileSize?: number }> {
  const prefix = under === '' ? '' : `${under.replace(/\/$/, '')}/`;
  const entries = new Map<string, { path: string; isDir: boolean; fileSize?: number }>();
  for (const artifact of artifacts) {
    if (!artifact.path.startsWith(prefix)) continue;
    const rest = artifact.path.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash < 0) entries.set(rest, { path: rest, isDir: false, fileSize: artifact.sizeBytes });
    else entries.set(rest.slice(0, slash), { path: rest.slice(0, slash), isDir: true });
  }
  return [...entries.values()].sort((a, b) => a.path.localeCompare(b.path));
}
