import { Controller, Get, Inject } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { Operation, ValidParams, errorResponse, respond } from '@mlops/http';
import { POSTGRES } from '@mlops/storage';
import { RunStore, type TrainingRun } from '../../infrastructure/run-store';
import { type GetTrainingRunParams, getTrainingRunParams } from './get-training-run.request';

const runResponse = {
  type: 'object',
  required: [
    'trainingRunId',
    'model',
    'status',
    'progress',
    'attempt',
    'snapshotId',
    'request',
    'result',
    'failure',
    'createdAt',
    'updatedAt',
  ],
  properties: {
    trainingRunId: { type: 'string' },
    model: { type: 'string' },
    status: { enum: ['waiting_for_snapshot', 'training', 'succeeded', 'failed'] },
    progress: { type: 'number', description: 'share of the training done, 0 to 1' },
    attempt: { type: 'integer' },
    snapshotId: { type: 'string' },
    request: { type: 'object' },
    result: {
      type: ['object', 'null'],
      description: 'the model.trained event, calibration, boosting curve and parity',
    },
    failure: { type: ['object', 'null'], description: 'stage, errorCode, message, retryable' },
  },
} as const;

/** GET /training-runs/:id: where a run is, how far it got, its result or why it failed. */
@Controller('training-runs')
export class GetTrainingRunHttpController {
  constructor(
    private readonly runs: RunStore,
    @Inject(POSTGRES) private readonly dataSource: DataSource,
  ) {}

  @Get(':id')
  @Operation({
    summary: 'A training run: status, progress, result or failure',
    responses: {
      200: { description: 'the run', schema: runResponse },
      404: errorResponse('no such run', 'run_not_found'),
    },
  })
  async get(@ValidParams(getTrainingRunParams) params: GetTrainingRunParams): Promise<Record<string, unknown>> {
    const run = respond(await this.find(params.id), { run_not_found: 404 });
    const { id, ...rest } = run;
    return { trainingRunId: id, ...rest };
  }

  private async find(id: string): Promise<Result<TrainingRun, DomainError<'run_not_found'>>> {
    const run = await this.runs.find(this.dataSource.manager, id);
    return run ? ok(run) : err(domainError('run_not_found', `no training run ${id}`, { trainingRunId: id }));
  }
}
