import { Controller, Get, NotFoundException, Param, ParseIntPipe } from '@nestjs/common';
import { DatasetStore } from '../../infrastructure/dataset-store';
import { datasetView } from '../dataset.view';

/** `GET /datasets`, `GET /datasets/:name` (latest version), `GET /datasets/:name/versions/:version`. */
@Controller('datasets')
export class GetDatasetController {
  constructor(private readonly datasets: DatasetStore) {}

  @Get()
  async list(): Promise<{ datasets: Record<string, unknown>[] }> {
    return { datasets: (await this.datasets.list()).map(datasetView) };
  }

  @Get(':name')
  async latest(@Param('name') name: string): Promise<Record<string, unknown>> {
    const dataset = await this.datasets.latest(name);
    if (!dataset) throw new NotFoundException({ error: 'unknown_dataset', message: `dataset "${name}" is not registered` });
    return datasetView(dataset);
  }

  @Get(':name/versions/:version')
  async version(@Param('name') name: string, @Param('version', ParseIntPipe) version: number): Promise<Record<string, unknown>> {
    const dataset = await this.datasets.version(name, version);
    if (!dataset) throw new NotFoundException({ error: 'unknown_dataset_version', message: `dataset "${name}" has no version ${version}` });
    return datasetView(dataset);
  }
}
