import { Controller, Get } from '@nestjs/common';
import { type FromSchema, Operation, ValidParams, errorResponse, respond } from '@mlops/http';
import { CatalogStore } from '../../infrastructure/catalog-store';
import { featureViewVersionResponse, featureViewVersionView } from '../feature-view.view';
import { type GetFeatureViewParams, getFeatureViewParams } from './get-feature-view.request';
import { getFeatureView } from './get-feature-view.service';

export const featureViewVersionsResponse = {
  type: 'object',
  required: ['name', 'latestVersion', 'servingVersion', 'versions'],
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    latestVersion: { type: 'integer' },
    servingVersion: {
      type: ['integer', 'null'],
      description: 'the newest ready version: records feed it, lookups answer it by default',
    },
    versions: { type: 'array', items: featureViewVersionResponse, description: 'oldest first' },
  },
} as const;

/** GET /feature-views/:name: every version, oldest first, with its backfill status. */
@Controller('feature-views')
export class GetFeatureViewHttpController {
  constructor(private readonly catalog: CatalogStore) {}

  @Get(':name')
  @Operation({
    summary: 'Every version of a feature view, with its backfill status',
    responses: {
      200: { description: 'the versions, oldest first', schema: featureViewVersionsResponse },
      404: errorResponse('no such view', 'view_not_found'),
    },
  })
  async versions(
    @ValidParams(getFeatureViewParams) params: GetFeatureViewParams,
  ): Promise<FromSchema<typeof featureViewVersionsResponse>> {
    const view = respond(await getFeatureView(this.catalog, params.name), { view_not_found: 404 });
    return { ...view, versions: view.versions.map(featureViewVersionView) };
  }
}
