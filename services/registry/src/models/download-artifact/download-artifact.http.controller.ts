import { Readable } from 'node:stream';
import { Controller, Get, Inject, Res, StreamableFile } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { type ArtifactStore, ArtifactIntegrityError, ArtifactNotFoundError } from '@mlops/artifacts';
import { Audited, RequireRole } from '@mlops/auth';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { Operation, ValidParams, errorResponse, respond } from '@mlops/http';
import { POSTGRES } from '@mlops/storage';
import { CatalogStore, type VersionRecord } from '../../infrastructure/catalog-store';
import { ARTIFACT_STORE } from '../../tokens';
import { type NotFound, versionNotFound } from '../errors';
import { type VersionParams, versionParams } from '../params';

const CHUNK = 64 * 1024;

type DownloadError = NotFound | DomainError<'artifact_missing' | 'artifact_corrupt'>;

/** `GET /models/:name/versions/:version/artifact`: the ONNX file, verified against its sha256, streamed (role reader). */
@Controller('models/:name/versions/:version/artifact')
export class DownloadArtifactHttpController {
  constructor(
    @Inject(POSTGRES) private readonly dataSource: DataSource,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    private readonly catalog: CatalogStore,
  ) {}

  @Get()
  @RequireRole('reader')
  @Audited()
  @Operation({
    summary: 'Download the ONNX artifact (X-Artifact-Sha256 header; bytes verified before they are sent)',
    responses: {
      200: { description: 'the ONNX file', schema: { type: 'string', format: 'binary' } },
      404: errorResponse('no such version, or its artifact is gone', 'artifact_missing'),
      500: errorResponse('the stored bytes do not match the sha256', 'artifact_corrupt'),
    },
  })
  async download(
    @ValidParams(versionParams) params: VersionParams,
    @Res({ passthrough: true }) res: { setHeader(name: string, value: string | number): void },
  ): Promise<StreamableFile> {
    const { version, bytes } = respond(await this.read(params.name, Number(params.version)), {
      model_not_found: 404,
      version_not_found: 404,
      artifact_missing: 404,
      artifact_corrupt: 500,
    });
    res.setHeader('x-artifact-sha256', version.artifact.sha256);
    res.setHeader('content-length', bytes.length);
    res.setHeader('content-disposition', `attachment; filename="${version.model}-v${version.version}.onnx"`);
    const chunks = (function* () {
      for (let at = 0; at < bytes.length; at += CHUNK) yield bytes.subarray(at, at + CHUNK);
    })();
    return new StreamableFile(Readable.from(chunks), { type: 'application/onnx' });
  }

  private async read(
    model: string,
    number: number,
  ): Promise<Result<{ version: VersionRecord; bytes: Buffer }, DownloadError>> {
    const version = await this.catalog.findVersion(this.dataSource.manager, model, number);
    if (!version) return err(versionNotFound(model, number));
    try {
      return ok({ version, bytes: await this.artifacts.get(version.artifact.uri) });
    } catch (error) {
      if (error instanceof ArtifactNotFoundError) {
        return err(domainError('artifact_missing', `the artifact of ${model} version ${number} is not in the store`));
      }
      if (error instanceof ArtifactIntegrityError) {
        return err(
          domainError('artifact_corrupt', `the stored artifact of ${model} version ${number} fails its sha256`),
        );
      }
      throw error;
    }
  }
}
