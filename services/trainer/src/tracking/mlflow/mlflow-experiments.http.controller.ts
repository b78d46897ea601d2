import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { CurrentPrincipal, type Principal, RequireRole } from '@mlops/auth';
import { Operation } from '@mlops/http';
import { TrackingService } from '../tracking.service';
import {
  type CreateExperimentBody,
  type GetExperimentByNameQuery,
  type GetExperimentQuery,
  type SearchExperimentsBody,
  type SetExperimentTagBody,
  createExperimentBody,
  getExperimentByNameQuery,
  getExperimentQuery,
  searchExperimentsBody,
  setExperimentTagBody,
} from './mlflow.request';
import { MlflowBody, MlflowQuery, experimentView, integer, mlflowErrorResponse, mlflowRespond } from './mlflow-http';

const notFound = mlflowErrorResponse('RESOURCE_DOES_NOT_EXIST');
const invalid = mlflowErrorResponse('INVALID_PARAMETER_VALUE or RESOURCE_ALREADY_EXISTS');

/** MLflow tracking REST API, experiments (what `mlflow.set_experiment` and `search_experiments` call). */
@Controller(['api/2.0/mlflow/experiments', 'ajax-api/2.0/mlflow/experiments'])
export class MlflowExperimentsHttpController {
  constructor(private readonly tracking: TrackingService) {}

  @Get('get-by-name')
  @RequireRole('reader')
  @Operation({
    summary: 'MLflow: an experiment by name',
    responses: { 200: { description: '{experiment}' }, 404: notFound },
  })
  async getByName(@MlflowQuery(getExperimentByNameQuery) query: GetExperimentByNameQuery) {
    return { experiment: experimentView(mlflowRespond(await this.tracking.experimentByName(query.experiment_name))) };
  }

  @Get('get')
  @RequireRole('reader')
  @Operation({
    summary: 'MLflow: an experiment by id',
    responses: { 200: { description: '{experiment}' }, 404: notFound },
  })
  async get(@MlflowQuery(getExperimentQuery) query: GetExperimentQuery) {
    return { experiment: experimentView(mlflowRespond(await this.tracking.experiment(query.experiment_id))) };
  }

  @Post('create')
  @HttpCode(200)
  @RequireRole('trainer')
  @Operation({
    summary: 'MLflow: create an experiment',
    responses: { 200: { description: '{experiment_id}' }, 400: invalid },
  })
  async create(@MlflowBody(createExperimentBody) body: CreateExperimentBody, @CurrentPrincipal() actor: Principal) {
    const id = mlflowRespond(
      await this.tracking.createExperiment(
        {
          name: body.name,
          ...(body.artifact_location ? { artifactLocation: body.artifact_location } : {}),
          tags: (body.tags ?? []).map((t) => ({ key: t.key, value: t.value ?? '' })),
        },
        actor.name,
      ),
    );
    return { experiment_id: id };
  }

  @Post('search')
  @HttpCode(200)
  @RequireRole('reader')
  @Operation({
    summary: 'MLflow: search experiments',
    responses: { 200: { description: '{experiments, next_page_token}' }, 400: invalid },
  })
  async search(@MlflowBody(searchExperimentsBody) body: SearchExperimentsBody) {
    const maxResults = integer(body.max_results);
    const found = mlflowRespond(
      await this.tracking.searchExperiments({
        ...(body.filter !== undefined ? { filter: body.filter } : {}),
        ...(body.order_by ? { orderBy: body.order_by } : {}),
        ...(maxResults !== undefined ? { maxResults } : {}),
        ...(body.page_token ? { pageToken: body.page_token } : {}),
        ...(body.view_type ? { viewType: body.view_type } : {}),
      }),
    );
    return {
      experiments: found.experiments.map(experimentView),
      ...(found.nextPageToken ? { next_page_token: found.nextPageToken } : {}),
    };
  }

  @Post('set-experiment-tag')
  @HttpCode(200)
  @RequireRole('trainer')
  @Operation({
    summary: 'MLflow: set a tag on an experiment',
    responses: { 200: { description: '{}' }, 404: notFound },
  })
  async setTag(@MlflowBody(setExperimentTagBody) body: SetExperimentTagBody) {
    mlflowRespond(await this.tracking.setExperimentTag(body.experiment_id, { key: body.key, value: body.value ?? '' }));
    return {};
  }
}
