import { Controller, Get, Header } from '@nestjs/common';
import { RequireRole } from '@mlops/auth';
import { Operation, ValidParams, errorResponse, respond } from '@mlops/http';
import { modelCardMarkdown } from '../../domain/lineage';
import { type VersionParams, versionParams } from '../params';
import { CatalogQueries } from '../search/catalog-queries.service';

const NOT_FOUND = { model_not_found: 404, version_not_found: 404 } as const;

/** The lineage document and the model card of a version, generated from the registry's records (role reader). */
@Controller('models/:name/versions/:version')
@RequireRole('reader')
export class LineageHttpController {
  constructor(private readonly queries: CatalogQueries) {}

  @Get('lineage')
  @Operation({
    summary:
      'Lineage: datasets -> feature view -> snapshot (id, sha256, window, rows) -> run -> version -> deployments -> alias moves',
    responses: {
      200: { description: 'the lineage', schema: { type: 'object' } },
      404: errorResponse('no such version', 'version_not_found'),
    },
  })
  async lineage(@ValidParams(versionParams) params: VersionParams): Promise<Record<string, unknown>> {
    return respond(await this.queries.lineage(params.name, Number(params.version)), NOT_FOUND);
  }

  @Get('card')
  @Operation({
    summary: 'Model card as JSON: intended use, training data, metrics and slice gaps, gate decision, known limits',
    responses: {
      200: { description: 'the card', schema: { type: 'object' } },
      404: errorResponse('no such version', 'version_not_found'),
    },
  })
  async card(@ValidParams(versionParams) params: VersionParams): Promise<Record<string, unknown>> {
    return respond(await this.queries.card(params.name, Number(params.version)), NOT_FOUND);
  }

  @Get('card.md')
  @Header('content-type', 'text/markdown; charset=utf-8')
  @Operation({
    summary: 'Model card as Markdown',
    responses: {
      200: { description: 'the card', schema: { type: 'string' } },
      404: errorResponse('no such version', 'version_not_found'),
    },
  })
  async cardMarkdown(@ValidParams(versionParams) params: VersionParams): Promise<string> {
    return modelCardMarkdown(respond(await this.queries.card(params.name, Number(params.version)), NOT_FOUND));
  }
}
