import { Controller, Get } from '@nestjs/common';
import { Operation, ValidParams, errorResponse, respond } from '@mlops/http';
import { type DatasetResponse, datasetResponse, datasetView } from '../dataset.view';
import {
  type DatasetVersionParams,
  type LatestDatasetParams,
  datasetVersionParams,
  latestDatasetParams,
} from './get-dataset.request';
import { GetDatasetService } from './get-dataset.service';

const datasetList = {
  type: 'object',
  required: ['datasets'],
  additionalProperties: false,
  properties: { datasets: { type: 'array', items: datasetResponse } },
} as const;

/** `GET /datasets`, `GET /datasets/:name` (latest version), `GET /datasets/:name/versions/:version`. */
@Controller('datasets')
export class GetDatasetHttpController {
  constructor(private readonly service: GetDatasetService) {}

  @Get()
  @Operation({
    summary: 'The latest version of every dataset',
    responses: { 200: { description: 'every dataset', schema: datasetList } },
  })
  async list(): Promise<{ datasets: DatasetResponse[] }> {
    return { datasets: (await this.service.list()).map(datasetView) };
  }

  @Get(':name')
  @Operation({
    summary: 'The latest version of a dataset',
    responses: {
      200: { description: 'the latest version', schema: datasetResponse },
      404: errorResponse('the dataset is not registered', 'unknown_dataset'),
    },
  })
  async latest(@ValidParams(latestDatasetParams) params: LatestDatasetParams): Promise<DatasetResponse> {
    return datasetView(respond(await this.service.latest(params.name), { unknown_dataset: 404 }));
  }

  @Get(':name/versions/:version')
  @Operation({
    summary: 'One version of a dataset',
    responses: {
      200: { description: 'the version', schema: datasetResponse },
      404: errorResponse('no such version', 'unknown_dataset_version'),
    },
  })
  async version(@ValidParams(datasetVersionParams) params: DatasetVersionParams): Promise<DatasetResponse> {
    return datasetView(
      respond(await this.service.version(params.name, Number(params.version)), { unknown_dataset_version: 404 }),
    );
  }
}
