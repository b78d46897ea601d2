import { Controller, Get } from '@nestjs/common';
import { RequireRole } from '@mlops/auth';
import { Operation, ValidParams, ValidQuery, errorResponse, respond } from '@mlops/http';
import { type ModelParam, modelParam } from '../../policies/model-policy/model-policy.request';
import { type ReportQuery, reportQuery } from '../model-report.query';
import { ModelPerformanceService, type PerformanceWindowView } from './model-performance.service';

/** GET /models/:model/performance: live metrics per window, version and arm. */
@Controller('models')
export class ModelPerformanceHttpController {
  constructor(private readonly service: ModelPerformanceService) {}

  @Get(':model/performance')
  @RequireRole('reader', 'analyst')
  @Operation({
    summary: 'Live performance of a model per window, version and arm (labelled predictions)',
    responses: {
      200: { description: 'complete windows, oldest first' },
      404: errorResponse('no registered version of that model', 'model_not_found'),
    },
  })
  async performance(
    @ValidParams(modelParam) params: ModelParam,
    @ValidQuery(reportQuery) query: ReportQuery,
  ): Promise<{ model: string; windows: PerformanceWindowView[] }> {
    const version = query.version === undefined ? undefined : Number(query.version);
    const windows = respond(await this.service.performance(params.model, version), { model_not_found: 404 });
    return { model: params.model, windows };
  }
}
