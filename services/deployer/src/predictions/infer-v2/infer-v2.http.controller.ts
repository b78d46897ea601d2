import { Controller, Get, HttpCode, HttpException, Post } from '@nestjs/common';
import { NotAudited, Public, RequireRole } from '@mlops/auth';
import { type DomainError, type Result, err, ok } from '@mlops/core';
import { Operation, ValidBody, ValidParams, errorResponse, respond } from '@mlops/http';
import { decodeInputs, encodeOutputs, inputTensorsOf, outputTensorsOf } from '../../domain/oip';
import type { LoadedModel } from '../../infrastructure/loaded-model';
import { ServingReadiness } from '../../readiness/serving-readiness';
import { PREDICT_STATUS } from '../predict/predict.http.controller';
import { PredictService } from '../predict/predict.service';
import {
  type InferBody,
  type ModelParams,
  inferBody,
  inferResponse,
  modelMetadataResponse,
  modelParams,
} from './infer-v2.request';

const INFER_STATUS = { ...PREDICT_STATUS, malformed_tensor: 400 } as const;
const NOT_FOUND = errorResponse('unknown model or version', ['unknown_model', 'unknown_alias', 'unknown_version']);

/**
 * The Open Inference Protocol v2 over REST as KServe, Triton and MLServer speak it: health, model metadata and
 * readiness, and infer with tensors. A model name answers with its production alias (or its only alias); a
 * version path asks for that version.
 */
@Controller('v2')
export class InferV2HttpController {
  constructor(
    private readonly predictions: PredictService,
    private readonly readiness: ServingReadiness,
  ) {}

  @Get('health/live')
  @Public()
  @Operation({ summary: 'OIP v2: the server is live', responses: { 200: { description: '{ live: true }' } } })
  live(): { live: boolean } {
    return { live: true };
  }

  @Get('health/ready')
  @Public()
  @Operation({
    summary: 'OIP v2: models loaded and online features caught up',
    responses: { 200: { description: '{ ready: true }' }, 503: { description: '{ ready: false }' } },
  })
  ready(): { ready: boolean } {
    if (!this.readiness.ready) throw new HttpException({ ready: false }, 503);
    return { ready: true };
  }

  @Get('models/:name')
  @RequireRole('reader')
  @Operation({
    summary: 'OIP v2: model metadata',
    responses: { 200: { description: 'metadata', schema: modelMetadataResponse }, 404: NOT_FOUND },
  })
  metadata(@ValidParams(modelParams) params: ModelParams): Record<string, unknown> {
    return this.describe(params);
  }

  @Get('models/:name/versions/:version')
  @RequireRole('reader')
  @Operation({
    summary: 'OIP v2: metadata of a model version',
    responses: { 200: { description: 'metadata', schema: modelMetadataResponse }, 404: NOT_FOUND },
  })
  versionMetadata(@ValidParams(modelParams) params: ModelParams): Record<string, unknown> {
    return this.describe(params);
  }

  @Get('models/:name/ready')
  @RequireRole('reader')
  @Operation({
    summary: 'OIP v2: the model is ready',
    responses: { 200: { description: '{ name, ready }' }, 404: NOT_FOUND },
  })
  modelReady(@ValidParams(modelParams) params: ModelParams): Record<string, unknown> {
    const loaded = this.loaded(params);
    return { name: params.name, ready: true, version: String(loaded.deployment.version) };
  }

  @Get('models/:name/versions/:version/ready')
  @RequireRole('reader')
  @Operation({
    summary: 'OIP v2: the model version is ready',
    responses: { 200: { description: '{ name, ready }' }, 404: NOT_FOUND },
  })
  versionReady(@ValidParams(modelParams) params: ModelParams): Record<string, unknown> {
    return this.modelReady(params);
  }

  @Post('models/:name/infer')
  @HttpCode(200)
  @RequireRole('reader')
  // Every prediction is in the prediction log already; an audit row each would double the hot path's writes.
  @NotAudited()
  @Operation({
    summary: 'OIP v2: infer with tensors',
    responses: {
      200: { description: 'output tensors', schema: inferResponse },
      400: errorResponse('a tensor does not fit the model', 'malformed_tensor'),
      404: NOT_FOUND,
      413: errorResponse('more rows than PREDICT_MAX_BATCH', 'batch_too_large'),
    },
  })
  infer(
    @ValidParams(modelParams) params: ModelParams,
    @ValidBody(inferBody) body: InferBody,
  ): Promise<Record<string, unknown>> {
    return this.run(params, body);
  }

  @Post('models/:name/versions/:version/infer')
  @HttpCode(200)
  @RequireRole('reader')
  // Every prediction is in the prediction log already; an audit row each would double the hot path's writes.
  @NotAudited()
  @Operation({
    summary: 'OIP v2: infer with tensors on a model version',
    responses: {
      200: { description: 'output tensors', schema: inferResponse },
      400: errorResponse('a tensor does not fit the model', 'malformed_tensor'),
      404: NOT_FOUND,
      413: errorResponse('more rows than PREDICT_MAX_BATCH', 'batch_too_large'),
    },
  })
  inferVersion(
    @ValidParams(modelParams) params: ModelParams,
    @ValidBody(inferBody) body: InferBody,
  ): Promise<Record<string, unknown>> {
    return this.run(params, body);
  }

  private async run(params: ModelParams, body: InferBody): Promise<Record<string, unknown>> {
    const loaded = this.loaded(params);
    const encoded = respond(decodeInputs(loaded.signature, body.inputs), INFER_STATUS);
    const outputs = respond(
      this.checkOutputs(
        loaded,
        body.outputs?.map((output) => output.name),
      ),
      INFER_STATUS,
    );
    const scored = respond(
      await this.predictions.scoreEncoded(loaded, encoded, { requestId: body.id, channel: 'oip' }),
      INFER_STATUS,
    );
    const tensors = respond(
      encodeOutputs(
        loaded.signature,
        scored.rows.map((row) => row.output),
        outputs,
      ),
      INFER_STATUS,
    );
    return {
      model_name: scored.model,
      model_version: String(scored.version),
      ...(body.id !== undefined ? { id: body.id } : {}),
      outputs: tensors,
    };
  }

  /** Unknown output names are refused before anything runs. */
  private checkOutputs(
    loaded: LoadedModel,
    names: string[] | undefined,
  ): Result<string[] | undefined, DomainError<'malformed_tensor'>> {
    if (names === undefined) return ok(undefined);
    const check = encodeOutputs(loaded.signature, [], names);
    return check.ok ? ok(names) : err(check.error);
  }

  private loaded(params: ModelParams): LoadedModel {
    return respond(
      this.predictions.resolve(
        params.name,
        undefined,
        params.version === undefined ? undefined : Number(params.version),
      ),
      INFER_STATUS,
    );
  }

  private describe(params: ModelParams): Record<string, unknown> {
    const loaded = this.loaded(params);
    return {
      name: params.name,
      versions: [String(loaded.deployment.version)],
      platform: 'onnxruntime_onnx',
      inputs: inputTensorsOf(loaded.signature),
      outputs: outputTensorsOf(loaded.signature),
    };
  }
}
