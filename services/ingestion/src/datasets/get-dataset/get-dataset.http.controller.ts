import { Controller, Get, NotFoundException, Param, ParseIntPipe } from '@nestjs/common';
import type { DomainError } from '@mlops/core';
import { datasetView } from '../dataset.view';
import { GetDatasetService } from './get-dataset.service';

/** `GET /datasets`, `GET /datasets/:name` (latest version), `GET /datasets/:name/versions/:version`. */
@Controller('datasets')
export class GetDatasetHttpController {
  constructor(private readonly service: GetDatasetService) {}

  @Get()
  async list(): Promise<{ datasets: Record<string, unknown>[] }> {
    return { datasets: (await this.service.list()).map(datasetView) };
  }

  @Get(':name')
  async latest(@Param('name') name: string): Promise<Record<string, unknown>> {
    const dataset = await this.service.latest(name);
    if (!dataset.ok) throw notFound(dataset.error);
    return datasetView(dataset.value);
  }

  @Get(':name/versions/:version')
  async version(@Param('name') name: string, @Param('version', ParseIntPipe) version: number): Promise<Record<string, unknown>> {
    const dataset = await this.service.version(name, version);
    if (!dataset.ok) throw notFound(dataset.error);
    return datasetView(dataset.value);
  }
}

// Both errors of this use case say that what was asked for does not exist.
function notFound({ kind, message }: DomainError): NotFoundException {
  return new NotFoundException({ error: kind, message });
}
