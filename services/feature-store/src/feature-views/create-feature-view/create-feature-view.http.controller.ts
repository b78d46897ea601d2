import { Body, Controller, HttpStatus, NotFoundException, Post, Res, UnprocessableEntityException } from '@nestjs/common';
import { CreateFeatureViewService } from './create-feature-view.service';
import { featureViewVersionView } from '../feature-view.view';

/** POST /feature-views: 201 with a new version, 200 when it equals the newest, 422 with every issue, 404 unknown dataset. */
@Controller('feature-views')
export class CreateFeatureViewHttpController {
  constructor(private readonly service: CreateFeatureViewService) {}

  @Post()
  async create(@Body() body: unknown, @Res({ passthrough: true }) res: { status(code: number): unknown }): Promise<unknown> {
    const result = await this.service.create(body);
    if (!result.ok) {
      const error = result.error;
      if (error.kind === 'unknown-dataset') throw new NotFoundException({ statusCode: 404, error: 'Not Found', message: `dataset "${error.dataset}" is not registered` });
      throw new UnprocessableEntityException({ statusCode: 422, error: 'Unprocessable Entity', message: 'the feature view definition is invalid or does not fit its dataset', issues: error.issues });
    }
    res.status(result.value.created ? HttpStatus.CREATED : HttpStatus.OK);
    return featureViewVersionView(result.value.view);
  }
}
