import { Controller, Get } from '@nestjs/common';
import { RequireRole } from '@mlops/auth';
import { Operation } from '@mlops/http';
import { ServingTable } from '../../infrastructure/serving-table';

const listResponse = {
  type: 'object',
  required: ['models'],
  properties: {
    models: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          model: { type: 'string' },
          alias: { type: 'string' },
          version: { type: 'integer' },
          artifactSha256: { type: 'string' },
          featureView: { type: 'object' },
          servingSince: { type: 'string' },
        },
      },
    },
  },
} as const;

/** GET /models: what this replica serves, per model and alias. */
@Controller('models')
export class ListModelsHttpController {
  constructor(private readonly table: ServingTable) {}

  @Get()
  @RequireRole('reader')
  @Operation({
    summary: 'The versions this replica serves',
    responses: { 200: { description: 'served', schema: listResponse } },
  })
  list(): { models: Record<string, unknown>[] } {
    return {
      models: this.table.all().map(({ deployment }) => ({
        model: deployment.model,
        alias: deployment.alias,
        version: deployment.version,
        artifactSha256: deployment.artifactSha256,
        featureView: deployment.featureView,
        servingSince: deployment.servingSince,
      })),
    };
  }
}
