import { Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { CurrentPrincipal, type Principal, RequireRole } from '@mlops/auth';
import { Operation, ValidBody, errorResponse, respond } from '@mlops/http';
import { type RequestTrainingRequest, requestTrainingRequest } from './request-training.request';
import { RequestTrainingService } from './request-training.service';

const acceptedResponse = {
  type: 'object',
  required: ['trainingRunId', 'status'],
  additionalProperties: false,
  properties: {
    trainingRunId: { type: 'string', format: 'uuid' },
    status: { const: 'requested', description: 'follow it at GET /training-runs/:id' },
  },
} as const;

/** `POST /training-runs`: emits `mlops.training.requested.v1`; 202, the run follows asynchronously. */
@Controller('training-runs')
export class RequestTrainingHttpController {
  constructor(private readonly service: RequestTrainingService) {}

  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  @RequireRole('trainer')
  @Operation({
    summary: 'Request the training of a model on a feature view',
    description: 'The same trainingRunId again trains nothing new.',
    responses: {
      202: { description: 'requested', schema: acceptedResponse },
      400: errorResponse('the window is empty', 'invalid_window'),
    },
  })
  async request(
    @ValidBody(requestTrainingRequest) body: RequestTrainingRequest,
    @CurrentPrincipal() actor: Principal,
  ): Promise<{ trainingRunId: string; status: 'requested' }> {
    const requested = respond(await this.service.request(body, actor.name), { invalid_window: 400 });
    return { trainingRunId: requested.trainingRunId, status: 'requested' };
  }
}
