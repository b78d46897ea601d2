import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { RequireRole } from '@mlops/auth';
import { type FromSchema, Operation, ValidBody, ValidParams, errorResponse, respond } from '@mlops/http';
import { type BatchScoreJob, BatchScoreService } from './batch-score.service';
import {
  batchScoreJobParams,
  batchScoreJobResponse,
  startBatchScoreBody,
  startBatchScoreParams,
} from './batch-score.request';

/** Batch scoring with a served version: POST starts a job (a snapshot, or a view's rows in a time range), GET follows it. */
@Controller()
export class BatchScoreHttpController {
  constructor(private readonly jobs: BatchScoreService) {}

  @Post('models/:name/versions/:version/batch-scores')
  @HttpCode(202)
  @RequireRole('analyst')
  @Operation({
    summary:
      "Score a snapshot, or a feature view's offline rows with event time in [from, to), with a served version; the scores go to the artifact store",
    responses: {
      202: {
        description: 'the job, running (or the one already started under this requestId)',
        schema: batchScoreJobResponse,
      },
      404: errorResponse('unknown model or version', ['unknown_model', 'unknown_alias', 'unknown_version']),
      409: errorResponse('the requestId was used for another request', 'request_id_conflict'),
      422: errorResponse('from is not before to', 'invalid_time_range'),
    },
  })
  async start(
    @ValidParams(startBatchScoreParams) params: FromSchema<typeof startBatchScoreParams>,
    @ValidBody(startBatchScoreBody) body: FromSchema<typeof startBatchScoreBody>,
  ): Promise<BatchScoreJob> {
    const started = await this.jobs.start(params.name, Number(params.version), {
      ...(body.requestId !== undefined ? { requestId: body.requestId } : {}),
      ...('snapshotUri' in body
        ? { snapshot: { uri: body.snapshotUri, sha256: body.snapshotSha256 } }
        : {
            range: {
              from: body.from,
              to: body.to,
              ...(body.featureView !== undefined ? { featureView: body.featureView } : {}),
            },
          }),
    });
    return respond(started, {
      unknown_model: 404,
      unknown_alias: 404,
      unknown_version: 404,
      request_id_conflict: 409,
      invalid_time_range: 422,
    });
  }

  @Get('batch-scores/:id')
  @RequireRole('analyst')
  @Operation({
    summary: 'A batch scoring job: phase, progress, result or error',
    responses: {
      200: { description: 'the job', schema: batchScoreJobResponse },
      404: errorResponse('no such job', 'job_not_found'),
    },
  })
  async find(@ValidParams(batchScoreJobParams) params: FromSchema<typeof batchScoreJobParams>): Promise<BatchScoreJob> {
    return respond(await this.jobs.find(params.id), { job_not_found: 404 });
  }
}
