import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { RequireRole } from '@mlops/auth';
import { type FromSchema, Operation, ValidBody, ValidParams, errorResponse, respond } from '@mlops/http';
import { type BatchScoreJob, BatchScoreService } from './batch-score.service';

const startParams = {
  type: 'object',
  required: ['name', 'version'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,62}$' },
    version: { type: 'string', pattern: '^[1-9][0-9]{0,8}$' },
  },
} as const;

const startBody = {
  type: 'object',
  required: ['snapshotUri', 'snapshotSha256'],
  additionalProperties: false,
  properties: {
    snapshotUri: { type: 'string', minLength: 1, maxLength: 2000, description: 'a snapshot in the artifact store' },
    snapshotSha256: { type: 'string', pattern: '^[a-f0-9]{64}$' },
  },
} as const;

const jobParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', format: 'uuid' } },
} as const;

const jobResponse = {
  type: 'object',
  required: ['id', 'model', 'version', 'status', 'rowsScored'],
  properties: {
    id: { type: 'string' },
    model: { type: 'string' },
    version: { type: 'integer' },
    status: { enum: ['running', 'succeeded', 'failed'] },
    rowsTotal: { type: ['integer', 'null'] },
    rowsScored: { type: 'integer' },
    result: { type: ['object', 'null'], description: 'uri, sha256, sizeBytes and rows of the scores (NDJSON)' },
    error: { type: ['object', 'null'] },
  },
} as const;

/** Batch scoring of a snapshot with a served version: POST starts a job, GET follows it. */
@Controller()
export class BatchScoreHttpController {
  constructor(private readonly jobs: BatchScoreService) {}

  @Post('models/:name/versions/:version/batch-scores')
  @HttpCode(202)
  @RequireRole('analyst')
  @Operation({
    summary: 'Score a snapshot with a served version; the scores go to the artifact store',
    responses: {
      202: { description: 'the job, running', schema: jobResponse },
      404: errorResponse('unknown model or version', ['unknown_model', 'unknown_alias', 'unknown_version']),
    },
  })
  start(
    @ValidParams(startParams) params: FromSchema<typeof startParams>,
    @ValidBody(startBody) body: FromSchema<typeof startBody>,
  ): BatchScoreJob {
    return respond(
      this.jobs.start(params.name, Number(params.version), { uri: body.snapshotUri, sha256: body.snapshotSha256 }),
      { unknown_model: 404, unknown_alias: 404, unknown_version: 404 },
    );
  }

  @Get('batch-scores/:id')
  @RequireRole('analyst')
  @Operation({
    summary: 'A batch scoring job: progress, result or error',
    responses: {
      200: { description: 'the job', schema: jobResponse },
      404: errorResponse('no such job on this replica', 'job_not_found'),
    },
  })
  find(@ValidParams(jobParams) params: FromSchema<typeof jobParams>): BatchScoreJob {
    return respond(this.jobs.find(params.id), { job_not_found: 404 });
  }
}
