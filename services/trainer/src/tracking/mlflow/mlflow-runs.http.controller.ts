import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { CurrentPrincipal, type Principal, RequireRole } from '@mlops/auth';
import { Operation } from '@mlops/http';
import { TrackingService } from '../tracking.service';
import {
  type CreateRunBody,
  type DeleteTagBody,
  type GetRunQuery,
  type LogBatchBody,
  type LogInputsBody,
  type LogMetricBody,
  type LogParamBody,
  type MetricHistoryQuery,
  type SearchRunsBody,
  type SetTagBody,
  type UpdateRunBody,
  createRunBody,
  deleteTagBody,
  getRunQuery,
  logBatchBody,
  logInputsBody,
  logMetricBody,
  logParamBody,
  metricHistoryQuery,
  searchRunsBody,
  setTagBody,
  updateRunBody,
} from './mlflow.request';
import {
  MlflowBody,
  MlflowQuery,
  double,
  integer,
  metricView,
  mlflowError,
  mlflowErrorResponse,
  mlflowRespond,
  runInfoView,
  runView,
} from './mlflow-http';

const notFound = mlflowErrorResponse('RESOURCE_DOES_NOT_EXIST');
const invalid = mlflowErrorResponse('INVALID_PARAMETER_VALUE');
const done = { 200: { description: '{}' }, 400: invalid, 404: notFound };

/** The run a request names: MLflow clients send `run_id`, older ones `run_uuid`. */
function runIdOf(request: { run_id?: string; run_uuid?: string }): string {
  const id = request.run_id || request.run_uuid;
  if (!id) throw mlflowError('INVALID_PARAMETER_VALUE', "Missing value for required parameter 'run_id'.", 400);
  return id;
}

/** MLflow tracking REST API, runs: start_run, log_param(s), log_metric(s), set_tag, end_run, get_run, search_runs. */
@Controller(['api/2.0/mlflow', 'ajax-api/2.0/mlflow'])
export class MlflowRunsHttpController {
  constructor(private readonly tracking: TrackingService) {}

  @Post('runs/create')
  @HttpCode(200)
  @RequireRole('trainer')
  @Operation({
    summary: 'MLflow: start a run',
    responses: { 200: { description: '{run}' }, 400: invalid, 404: notFound },
  })
  async create(@MlflowBody(createRunBody) body: CreateRunBody, @CurrentPrincipal() actor: Principal) {
    const startTime = integer(body.start_time);
    const run = mlflowRespond(
      await this.tracking.createRun(
        {
          ...(body.experiment_id ? { experimentId: body.experiment_id } : {}),
          ...(body.user_id ? { userId: body.user_id } : {}),
          ...(startTime !== undefined ? { startTime } : {}),
          ...(body.run_name ? { runName: body.run_name } : {}),
          tags: (body.tags ?? []).map((t) => ({ key: t.key, value: t.value ?? '' })),
        },
        actor.name,
      ),
    );
    return { run: runView(run) };
  }

  @Get('runs/get')
  @RequireRole('reader')
  @Operation({
    summary: 'MLflow: a run with its latest metrics, params and tags',
    responses: { 200: { description: '{run}' }, 404: notFound },
  })
  async get(@MlflowQuery(getRunQuery) query: GetRunQuery) {
    return { run: runView(mlflowRespond(await this.tracking.run(runIdOf(query)))) };
  }

  @Post('runs/update')
  @HttpCode(200)
  @RequireRole('trainer')
  @Operation({
    summary: 'MLflow: end or rename a run',
    responses: { 200: { description: '{run_info}' }, 400: invalid, 404: notFound },
  })
  async update(@MlflowBody(updateRunBody) body: UpdateRunBody) {
    const endTime = integer(body.end_time);
    const info = mlflowRespond(
      await this.tracking.updateRun({
        runId: runIdOf(body),
        ...(body.status ? { status: body.status } : {}),
        ...(endTime !== undefined ? { endTime } : {}),
        ...(body.run_name ? { runName: body.run_name } : {}),
      }),
    );
    return { run_info: runInfoView(info) };
  }

  @Post('runs/log-metric')
  @HttpCode(200)
  @RequireRole('trainer')
  @Operation({ summary: 'MLflow: log one metric value at a step', responses: done })
  async logMetric(@MlflowBody(logMetricBody) body: LogMetricBody) {
    mlflowRespond(
      await this.tracking.logBatch(runIdOf(body), {
        metrics: [
          {
            key: body.key,
            value: double(body.value),
            timestamp: Number(body.timestamp),
            step: integer(body.step) ?? 0,
          },
        ],
        params: [],
        tags: [],
      }),
    );
    return {};
  }

  @Post('runs/log-parameter')
  @HttpCode(200)
  @RequireRole('trainer')
  @Operation({ summary: 'MLflow: log one param (immutable once logged)', responses: done })
  async logParam(@MlflowBody(logParamBody) body: LogParamBody) {
    mlflowRespond(
      await this.tracking.logBatch(runIdOf(body), {
        metrics: [],
        params: [{ key: body.key, value: body.value ?? '' }],
        tags: [],
      }),
    );
    return {};
  }

  @Post('runs/set-tag')
  @HttpCode(200)
  @RequireRole('trainer')
  @Operation({ summary: 'MLflow: set a tag on a run', responses: done })
  async setTag(@MlflowBody(setTagBody) body: SetTagBody) {
    mlflowRespond(
      await this.tracking.logBatch(runIdOf(body), {
        metrics: [],
        params: [],
        tags: [{ key: body.key, value: body.value ?? '' }],
      }),
    );
    return {};
  }

  @Post('runs/delete-tag')
  @HttpCode(200)
  @RequireRole('trainer')
  @Operation({ summary: 'MLflow: delete a tag of a run', responses: done })
  async deleteTag(@MlflowBody(deleteTagBody) body: DeleteTagBody) {
    mlflowRespond(await this.tracking.deleteTag(body.run_id, body.key));
    return {};
  }

  @Post('runs/log-batch')
  @HttpCode(200)
  @RequireRole('trainer')
  @Operation({ summary: 'MLflow: log metrics, params and tags at once', responses: done })
  async logBatch(@MlflowBody(logBatchBody) body: LogBatchBody) {
    mlflowRespond(
      await this.tracking.logBatch(body.run_id, {
        metrics: (body.metrics ?? []).map((m) => ({
          key: m.key,
          value: double(m.value),
          timestamp: Number(m.timestamp),
          step: integer(m.step) ?? 0,
        })),
        params: (body.params ?? []).map((p) => ({ key: p.key, value: p.value ?? '' })),
        tags: (body.tags ?? []).map((t) => ({ key: t.key, value: t.value ?? '' })),
      }),
    );
    return {};
  }

  @Post('runs/log-inputs')
  @HttpCode(200)
  @RequireRole('trainer')
  @Operation({
    summary: 'MLflow: log the datasets a run used (mlflow.log_input); get_run returns them',
    responses: done,
  })
  async logInputs(@MlflowBody(logInputsBody) body: LogInputsBody) {
    mlflowRespond(
      await this.tracking.logInputs(
        body.run_id,
        (body.datasets ?? []).map(({ dataset, tags }) => ({
          dataset: {
            name: dataset.name,
            digest: dataset.digest,
            sourceType: dataset.source_type,
            source: dataset.source,
            ...(dataset.schema === undefined ? {} : { schema: dataset.schema }),
            ...(dataset.profile === undefined ? {} : { profile: dataset.profile }),
          },
          tags: (tags ?? []).map((t) => ({ key: t.key, value: t.value ?? '' })),
        })),
      ),
    );
    return {};
  }

  @Post('runs/search')
  @HttpCode(200)
  @RequireRole('reader')
  @Operation({
    summary: 'MLflow: search runs',
    description:
      "filter: comparisons on metrics.<key>, params.<key>, tags.<key> and attributes (status, run_name, start_time, ...) joined by AND; order_by: ['metrics.auc DESC', ...]",
    responses: { 200: { description: '{runs, next_page_token}' }, 400: invalid },
  })
  async search(@MlflowBody(searchRunsBody) body: SearchRunsBody) {
    const maxResults = integer(body.max_results);
    const found = mlflowRespond(
      await this.tracking.searchRuns({
        experimentIds: body.experiment_ids ?? [],
        ...(body.filter !== undefined ? { filter: body.filter } : {}),
        ...(body.order_by ? { orderBy: body.order_by } : {}),
        ...(maxResults !== undefined ? { maxResults } : {}),
        ...(body.page_token ? { pageToken: body.page_token } : {}),
        ...(body.run_view_type ? { viewType: body.run_view_type } : {}),
      }),
    );
    return {
      runs: found.runs.map(runView),
      ...(found.nextPageToken ? { next_page_token: found.nextPageToken } : {}),
    };
  }

  @Get('metrics/get-history')
  @RequireRole('reader')
  @Operation({
    summary: 'MLflow: every logged value of a metric',
    responses: { 200: { description: '{metrics}' }, 404: notFound },
  })
  async history(@MlflowQuery(metricHistoryQuery) query: MetricHistoryQuery) {
    const points = mlflowRespond(await this.tracking.metricHistory(runIdOf(query), query.metric_key));
    return { metrics: points.map(metricView) };
  }
}
