import { Controller, Get } from '@nestjs/common';
import { RequireRole } from '@mlops/auth';
import { Operation, ValidParams, ValidQuery, errorResponse, respond } from '@mlops/http';
import { type ModelParam, modelParam } from '../../policies/model-policy/model-policy.request';
import { type ReportQuery, reportQuery } from '../model-report.query';
import { type DriftWindowView, ModelDriftService } from './model-drift.service';

/** GET /models/:model/drift: every judged window with every feature's statistics. */
@Controller('models')
export class ModelDriftHttpController {
  constructor(private readonly service: ModelDriftService) {}

  @Get(':model/drift')
  @RequireRole('reader', 'analyst')
  @Operation({
    summary: 'Drift per window and feature of a model (optionally one version)',
    responses: {
      200: { description: 'judged windows, oldest first' },
      404: errorResponse('no registered version of that model', 'model_not_found'),
    },
  })
  async drift(
    @ValidParams(modelParam) params: ModelParam,
    @ValidQuery(reportQuery) query: ReportQuery,
  ): Promise<{ model: string; windows: DriftWindowView[] }> {
    const version = query.version === undefined ? undefined : Number(query.version);
    const windows = respond(await this.service.drift(params.model, version), { model_not_found: 404 });
    return { model: params.model, windows };
  }
}
