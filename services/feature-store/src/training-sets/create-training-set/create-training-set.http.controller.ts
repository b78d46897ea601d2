import { Controller, HttpStatus, Post, Res } from '@nestjs/common';
import { RequireRole } from '@mlops/auth';
import { Operation, ValidBody, errorResponse, respond } from '@mlops/http';
import { type TrainingSetResponse, trainingSetResponse } from '../training-set.view';
import { type CreateTrainingSetRequest, createTrainingSetRequest } from './create-training-set.request';
import { CreateTrainingSetService } from './create-training-set.service';

/** POST /training-sets: 201 built, 202 pending (its view version is backfilling), 200 an id already known. */
@Controller('training-sets')
export class CreateTrainingSetHttpController {
  constructor(private readonly service: CreateTrainingSetService) {}

  @Post()
  @RequireRole('trainer')
  @Operation({
    summary: 'Build a point-in-time training set',
    description:
      'Rows exactly at each label time (windows, TTL, known-at semantics), as NDJSON and Parquet; the same build as mlops.dataset.snapshot.requested.v1, whose created event is announced too.',
    responses: {
      201: { description: 'built: status ready, files and quality', schema: trainingSetResponse },
      202: {
        description: 'pending: the view version is being backfilled; poll GET /training-sets/:id',
        schema: trainingSetResponse,
      },
      200: { description: 'the id is known: the answer for its first request', schema: trainingSetResponse },
      404: errorResponse('no such feature view version', 'view_not_found'),
      422: errorResponse(
        'the time range is empty, or the training set can never be built (e.g. a feature named like the label)',
        ['invalid_time_range', 'unbuildable'],
      ),
    },
  })
  async create(
    @ValidBody(createTrainingSetRequest) body: CreateTrainingSetRequest,
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ): Promise<TrainingSetResponse> {
    const { trainingSet, created } = respond(await this.service.create(body), {
      view_not_found: HttpStatus.NOT_FOUND,
      invalid_time_range: HttpStatus.UNPROCESSABLE_ENTITY,
      unbuildable: HttpStatus.UNPROCESSABLE_ENTITY,
    });
    res.status(!created ? HttpStatus.OK : trainingSet.status === 'ready' ? HttpStatus.CREATED : HttpStatus.ACCEPTED);
    return trainingSet;
  }
}
