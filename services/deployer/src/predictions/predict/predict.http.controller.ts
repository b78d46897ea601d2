import { Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { NotAudited, RequireRole } from '@mlops/auth';
import { Operation, ValidBody, ValidParams, errorResponse, invalidRequest, respond } from '@mlops/http';
import { type PredictBody, type PredictParams, predictBody, predictParams, predictResponse } from './predict.request';
import { type PredictError, PredictService, type ScoredRow } from './predict.service';

/** What each refusal answers: an unknown model/alias/version or entity is 404, a bad row 400, a big batch 413. */
export const PREDICT_STATUS = {
  unknown_model: 404,
  unknown_alias: 404,
  unknown_version: 404,
  unknown_entity: 404,
  missing_feature: 400,
  invalid_feature: 400,
  batch_too_large: 413,
  scoring_failed: 500,
} as const satisfies Record<PredictError['kind'], number>;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/** POST /models/:name/predict: one row or a batch, by entity (online features) or with explicit features. */
@Controller('models')
export class PredictHttpController {
  constructor(private readonly predictions: PredictService) {}

  @Post(':name/predict')
  @HttpCode(200)
  @RequireRole('reader')
  // Every prediction is in the prediction log already; an audit row each would double the hot path's writes.
  @NotAudited()
  @Operation({
    summary: 'Score one row or a batch with the version behind an alias',
    description:
      'Rows name an entity (its online features are joined, the request features override them) or carry every feature. ' +
      'An x-request-id header names the request in the answer and the prediction log.',
    responses: {
      200: { description: 'the predictions', schema: predictResponse },
      404: errorResponse('unknown model, alias, version or entity', 'unknown_model'),
      413: errorResponse('more rows than PREDICT_MAX_BATCH', 'batch_too_large'),
    },
  })
  async predict(
    @ValidParams(predictParams) params: PredictParams,
    @ValidBody(predictBody) body: PredictBody,
    @Headers('x-request-id') requestIdHeader: string | undefined,
  ): Promise<Record<string, unknown>> {
    const batch = body.instances !== undefined;
    const single = body.entityId !== undefined || body.features !== undefined;
    if (batch === single)
      throw invalidRequest('body', [
        {
          path: '',
          message: batch
            ? 'has both instances and a single row (entityId, features)'
            : 'needs entityId, features or instances',
        },
      ]);
    const rows = body.instances ?? [{ entityId: body.entityId, features: body.features }];
    const scored = respond(
      await this.predictions.predict({
        model: params.name,
        alias: body.alias,
        version: body.version,
        rows,
        requestId: requestIdHeader !== undefined && REQUEST_ID.test(requestIdHeader) ? requestIdHeader : undefined,
        channel: 'http',
        explain: body.explain,
        explainMethod: body.explainMethod,
      }),
      PREDICT_STATUS,
    );
    const head = { model: scored.model, alias: scored.alias, version: scored.version, requestId: scored.requestId };
    if (batch) return { ...head, predictions: scored.rows.map(answerOf) };
    return { ...head, ...answerOf(scored.rows[0] as ScoredRow) };
  }
}

function answerOf(row: ScoredRow): Record<string, unknown> {
  return {
    ...(row.entityId !== undefined ? { entityId: row.entityId } : {}),
    prediction: row.output.score,
    label: row.output.label,
    probabilities: row.output.probabilities,
    missingFeatures: row.missingFeatures,
    ...(row.explanation ? { explanation: row.explanation } : {}),
  };
}
