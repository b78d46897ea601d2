import { Controller, Get } from '@nestjs/common';
import { RequireRole } from '@mlops/auth';
import { Operation, ValidParams, ValidQuery, errorResponse, respond } from '@mlops/http';
import type { TrackedRun } from '../../domain/tracking';
import { TrackingService } from '../tracking.service';
import {
  type CompareQuery,
  type ExperimentParams,
  type RunParams,
  type RunsQuery,
  compareQuery,
  experimentParams,
  runParams,
  runsQuery,
} from './browse-runs.request';

const STATUSES = { not_found: 404, invalid_parameter: 400, already_exists: 409, invalid_state: 409 } as const;

function runSummary(run: TrackedRun): Record<string, unknown> {
  return {
    runId: run.info.runId,
    experimentId: run.info.experimentId,
    runName: run.info.runName,
    status: run.info.status,
    userId: run.info.userId,
    startTime: new Date(run.info.startTime).toISOString(),
    endTime: run.info.endTime === null ? null : new Date(run.info.endTime).toISOString(),
    parentRunId: run.info.parentRunId,
    trainingRunId: run.info.trainingRunId,
    reason: run.info.reason ?? null,
    params: Object.fromEntries(run.params.map((p) => [p.key, p.value])),
    metrics: Object.fromEntries(run.metrics.map((m) => [m.key, m.value])),
    tags: Object.fromEntries(run.tags.map((t) => [t.key, t.value])),
    datasets: run.inputs.map(({ dataset, tags }) => ({
      name: dataset.name,
      digest: dataset.digest,
      sourceType: dataset.sourceType,
      source: dataset.source,
      context: tags.find((t) => t.key === 'mlflow.data.context')?.value ?? null,
    })),
  };
}

/** Experiment tracking for people: experiments, their runs (searchable), a run with its trials, runs side by side. */
@Controller()
export class BrowseRunsHttpController {
  constructor(private readonly tracking: TrackingService) {}

  @Get('experiments')
  @RequireRole('reader')
  @Operation({ summary: 'Experiments, newest first', responses: { 200: { description: '{experiments}' } } })
  async experiments() {
    const found = respond(await this.tracking.searchExperiments({ maxResults: 1000 }), STATUSES);
    return {
      experiments: found.experiments.map((e) => ({
        experimentId: e.experimentId,
        name: e.name,
        tags: e.tags,
        createdBy: e.createdBy,
        creationTime: new Date(e.creationTime).toISOString(),
      })),
    };
  }

  @Get('experiments/:experimentId/runs')
  @RequireRole('reader')
  @Operation({
    summary: "The runs of an experiment, filtered and ordered with MLflow's search grammar",
    responses: { 200: { description: '{runs}' }, 404: errorResponse('no such experiment', 'not_found') },
  })
  async runs(@ValidParams(experimentParams) params: ExperimentParams, @ValidQuery(runsQuery) query: RunsQuery) {
    respond(await this.tracking.experiment(params.experimentId), STATUSES);
    const found = respond(
      await this.tracking.searchRuns({
        experimentIds: [params.experimentId],
        ...(query.filter ? { filter: query.filter } : {}),
        ...(query.orderBy ? { orderBy: query.orderBy.split(',').map((s) => s.trim()) } : {}),
        maxResults: 1000,
      }),
      STATUSES,
    );
    return { runs: found.runs.map(runSummary) };
  }

  @Get('runs/compare')
  @RequireRole('reader')
  @Operation({
    summary: 'Runs side by side: every param and latest metric of each',
    responses: { 200: { description: '{runs, params, metrics}' }, 404: errorResponse('no such run', 'not_found') },
  })
  async compare(@ValidQuery(compareQuery) query: CompareQuery) {
    const runs: TrackedRun[] = [];
    for (const id of query.ids.split(',')) runs.push(respond(await this.tracking.run(id), STATUSES));
    const keys = (pick: (run: TrackedRun) => readonly { key: string }[]): string[] =>
      [...new Set(runs.flatMap((run) => pick(run).map((item) => item.key)))].sort();
    return {
      runs: runs.map(runSummary),
      params: keys((run) => run.params),
      metrics: keys((run) => run.metrics),
    };
  }

  @Get('runs/:runId')
  @RequireRole('reader')
  @Operation({
    summary: 'A run: params, latest metrics and their history, tags, artifacts, trials (child runs)',
    responses: { 200: { description: 'the run' }, 404: errorResponse('no such run', 'not_found') },
  })
  async run(@ValidParams(runParams) params: RunParams) {
    const run = respond(await this.tracking.run(params.runId), STATUSES);
    const children = respond(await this.tracking.children(params.runId), STATUSES);
    const history: Record<string, Array<{ step: number; value: number; timestamp: number }>> = {};
    for (const metric of run.metrics) {
      const points = respond(await this.tracking.metricHistory(params.runId, metric.key), STATUSES);
      if (points.length > 1)
        history[metric.key] = points.map(({ step, value, timestamp }) => ({ step, value, timestamp }));
    }
    return {
      ...runSummary(run),
      artifactUri: run.info.artifactUri,
      metricHistory: history,
      artifacts: await this.tracking.artifactsOfRun(params.runId),
      trials: children.map(runSummary),
    };
  }
}
