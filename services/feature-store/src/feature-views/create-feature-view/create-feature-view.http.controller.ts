import { Controller, HttpStatus, Post, Res } from '@nestjs/common';
import { RequireRole } from '@mlops/auth';
import { Operation, ValidBody, errorResponse, respond } from '@mlops/http';
import {
  type FeatureViewVersionResponse,
  featureViewVersionResponse,
  featureViewVersionView,
} from '../feature-view.view';
import { type CreateFeatureViewRequest, createFeatureViewRequest } from './create-feature-view.request';
import { CreateFeatureViewService } from './create-feature-view.service';

const definitionIssues = {
  type: 'object',
  required: ['issues'],
  additionalProperties: false,
  properties: {
    issues: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'message'],
        additionalProperties: false,
        properties: { path: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
} as const;

/** POST /feature-views: 201 with a new version, 200 when it equals the newest, 422 with every issue, 404 unknown dataset. */
@Controller('feature-views')
export class CreateFeatureViewHttpController {
  constructor(private readonly service: CreateFeatureViewService) {}

  @Post()
  @RequireRole('data-steward')
  @Operation({
    summary: 'Create the next version of a feature view',
    description: 'A definition equal to the newest version answers that version (200) instead of making a new one.',
    responses: {
      201: { description: "the new version, status 'backfilling'", schema: featureViewVersionResponse },
      200: { description: 'the newest version, whose definition equals this one', schema: featureViewVersionResponse },
      404: errorResponse('the source dataset is not registered', 'unknown_dataset'),
      503: errorResponse(
        'the dataset is not known yet but registrations are still being consumed (right after its registration): retry after Retry-After seconds',
        'dataset_not_yet_known',
      ),
      422: errorResponse(
        'the definition does not fit its dataset: details.issues lists every reason (JSON Pointers)',
        'invalid_definition',
        definitionIssues,
      ),
    },
  })
  async create(
    @ValidBody(createFeatureViewRequest) body: CreateFeatureViewRequest,
    @Res({ passthrough: true }) res: { status(code: number): unknown; setHeader(name: string, value: string): unknown },
  ): Promise<FeatureViewVersionResponse> {
    const result = await this.service.create(body);
    if (!result.ok && result.error.kind === 'dataset_not_yet_known') res.setHeader('Retry-After', '1');
    const { view, created } = respond(result, {
      unknown_dataset: 404,
      dataset_not_yet_known: 503,
      invalid_definition: 422,
    });
    res.status(created ? HttpStatus.CREATED : HttpStatus.OK);
    return featureViewVersionView(view);
  }
}
