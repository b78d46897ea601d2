import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { EventTypes, type PredictionCompletedV1 } from '@mlops/contracts';
import { type CloudEvent, enqueueInOutbox, newEvent } from '@mlops/messaging';
import { INSTANCE_ID, PG_SCHEMA, SOURCE } from '../../tokens';
import { type PredictError, PredictService } from '../predict/predict.service';

type Requested = CloudEvent<typeof EventTypes.PredictionRequestedV1>;
type FailureCode = Extract<PredictionCompletedV1['result'], { status: 'failed' }>['error']['code'];

const CODE_OF: Record<PredictError['kind'], FailureCode> = {
  unknown_model: 'no_model',
  unknown_alias: 'no_model',
  unknown_version: 'no_model',
  unknown_entity: 'unknown_entity',
  missing_feature: 'invalid_features',
  invalid_feature: 'invalid_features',
  batch_too_large: 'invalid_features',
  scoring_failed: 'internal',
};

/**
 * Streaming scoring: a prediction.requested is scored like an HTTP request for its entity and answered by a
 * prediction.completed with the same requestId and key (model/entity), written to the outbox in the inbox
 * transaction: one answer per request, even when the request is redelivered.
 */
@Injectable()
export class ScoreStreamService {
  constructor(
    private readonly predictions: PredictService,
    @Inject(INSTANCE_ID) private readonly instanceId: string,
  ) {}

  async score(event: Requested, manager: EntityManager, now = new Date()): Promise<PredictionCompletedV1> {
    const request = event.data;
    const started = performance.now();
    const answer = (version: number | null, result: PredictionCompletedV1['result']): PredictionCompletedV1 => ({
      requestId: request.requestId,
      model: request.model,
      alias: request.alias,
      version,
      entityId: request.entityId,
      result,
      latencyMs: performance.now() - started,
      completedAt: new Date().toISOString(),
      instanceId: this.instanceId,
    });
    let completed: PredictionCompletedV1;
    if (request.expiresAt !== undefined && Date.parse(request.expiresAt) < now.getTime()) {
      completed = answer(null, {
        status: 'failed',
        error: { code: 'expired', message: `the request expired at ${request.expiresAt}` },
      });
    } else {
      const scored = await this.predictions.predict({
        model: request.model,
        alias: request.alias,
        rows: [{ entityId: request.entityId, features: request.features }],
        requestId: request.requestId,
        channel: 'stream',
      });
      if (scored.ok) {
        const output = scored.value.rows[0]?.output;
        completed = answer(scored.value.version, {
          status: 'succeeded',
          output:
            output?.label === null || output?.label === undefined
              ? { value: output?.score ?? Number.NaN }
              : { value: output.score, label: output.label },
        });
      } else {
        const served = this.predictions.resolve(request.model, request.alias);
        completed = answer(served.ok ? served.value.deployment.version : null, {
          status: 'failed',
          error: { code: CODE_OF[scored.error.kind], message: scored.error.message.slice(0, 2000) },
        });
      }
    }
    await enqueueInOutbox(
      manager,
      PG_SCHEMA,
      newEvent(EventTypes.PredictionCompletedV1, completed, { source: SOURCE, causedBy: event }),
    );
    return completed;
  }
}
