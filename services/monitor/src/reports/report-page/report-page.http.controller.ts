import { Controller, Get, Header } from '@nestjs/common';
import { RequireRole } from '@mlops/auth';
import { Operation, ValidParams, errorResponse, respond } from '@mlops/http';
import { type ModelParam, modelParam } from '../../policies/model-policy/model-policy.request';
import { ReportPageService } from './report-page.service';

/** GET /models/:model/report: an HTML page with inline SVG plots, for a person's browser. */
@Controller('models')
export class ReportPageHttpController {
  constructor(private readonly service: ReportPageService) {}

  @Get(':model/report')
  @RequireRole('reader', 'analyst')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
  @Operation({
    summary: 'Report page of a model: drift per feature over time, live metric against its floor, versions marked',
    responses: {
      200: { description: 'text/html' },
      404: errorResponse('no registered version of that model', 'model_not_found'),
    },
  })
  async page(@ValidParams(modelParam) params: ModelParam): Promise<string> {
    return respond(await this.service.page(params.model), { model_not_found: 404 });
  }
}
