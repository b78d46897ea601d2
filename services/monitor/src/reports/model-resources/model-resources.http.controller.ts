import { Controller, Get } from '@nestjs/common';
import { RequireRole } from '@mlops/auth';
import { Operation, ValidParams, ValidQuery, errorResponse, respond } from '@mlops/http';
import { type ModelParam, modelParam } from '../../policies/model-policy/model-policy.request';
import { type ResourcesQuery, resourcesQuery } from './model-resources.request';
import { type ResourceWindowView, ModelResourcesService } from './model-resources.service';

/** GET /models/:model/resources: cost proxy (CPU seconds per 1,000 predictions) and memory per version and window. */
@Controller('models')
export class ModelResourcesHttpController {
  constructor(private readonly service: ModelResourcesService) {}

  @Get(':model/resources')
  @RequireRole('reader', 'analyst')
  @Operation({
    summary: 'Cost proxy and resource use of a model per version and window',
    responses: {
      200: { description: 'windows, oldest first' },
      404: errorResponse('no registered version of that model', 'model_not_found'),
    },
  })
  async resources(
    @ValidParams(modelParam) params: ModelParam,
    @ValidQuery(resourcesQuery) query: ResourcesQuery,
  ): Promise<{ model: string; windowSeconds: number; windows: ResourceWindowView[] }> {
    const version = query.version === undefined ? undefined : Number(query.version);
    const windowSeconds = query.windowSeconds === undefined ? 3600 : Number(query.windowSeconds);
    const windows = respond(await this.service.resources(params.model, windowSeconds, version), {
      model_not_found: 404,
    });
    return { model: params.model, windowSeconds, windows };
  }
}
