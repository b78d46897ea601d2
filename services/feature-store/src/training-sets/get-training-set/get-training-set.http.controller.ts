import { Controller, Get, HttpStatus, Res, StreamableFile } from '@nestjs/common';
import { RequireRole } from '@mlops/auth';
import { Operation, ValidParams, ValidQuery, errorResponse, respond } from '@mlops/http';
import { type TrainingSetResponse, trainingSetResponse } from '../training-set.view';
import {
  type TrainingSetFileQuery,
  type TrainingSetParams,
  trainingSetFileQuery,
  trainingSetParams,
} from './get-training-set.request';
import { GetTrainingSetService } from './get-training-set.service';

const STATUS = {
  training_set_not_found: HttpStatus.NOT_FOUND,
  training_set_pending: HttpStatus.CONFLICT,
  format_not_available: HttpStatus.NOT_FOUND,
};

/** GET /training-sets/:id (status, quality, files) and GET /training-sets/:id/file?format=ndjson|parquet. */
@Controller('training-sets')
export class GetTrainingSetHttpController {
  constructor(private readonly service: GetTrainingSetService) {}

  @Get(':id')
  @RequireRole('trainer')
  @Operation({
    summary: 'A training set: status, semantics, quality, files (sha256)',
    responses: {
      200: { description: 'pending, or ready with its files and quality', schema: trainingSetResponse },
      404: errorResponse('no training set with this id', 'training_set_not_found'),
    },
  })
  async get(@ValidParams(trainingSetParams) params: TrainingSetParams): Promise<TrainingSetResponse> {
    return respond(await this.service.status(params.id), STATUS);
  }

  @Get(':id/file')
  @RequireRole('trainer')
  @Operation({
    summary: 'Download a training set as NDJSON (default) or Parquet',
    description: 'The bytes are verified against their sha256 (also sent as the ETag) before they are sent.',
    responses: {
      200: { description: 'application/x-ndjson or application/vnd.apache.parquet' },
      404: errorResponse('no such training set, or not in that format', [
        'training_set_not_found',
        'format_not_available',
      ]),
      409: errorResponse('not built yet (its view version is being backfilled)', 'training_set_pending'),
    },
  })
  async file(
    @ValidParams(trainingSetParams) params: TrainingSetParams,
    @ValidQuery(trainingSetFileQuery) query: TrainingSetFileQuery,
    @Res({ passthrough: true }) res: { setHeader(name: string, value: string): unknown },
  ): Promise<StreamableFile> {
    const file = respond(await this.service.file(params.id, query.format ?? 'ndjson'), STATUS);
    res.setHeader('ETag', `"${file.sha256}"`);
    return new StreamableFile(file.bytes, {
      type: file.mediaType,
      disposition: `attachment; filename="${file.fileName}"`,
      length: file.bytes.length,
    });
  }
}
