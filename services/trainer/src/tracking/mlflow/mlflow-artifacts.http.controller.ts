import { Controller, Get, HttpCode, Put, Req, Res } from '@nestjs/common';
import { RequireRole } from '@mlops/auth';
import { Operation } from '@mlops/http';
import { TrackingService } from '../tracking.service';
import type { RequestWithArtifactBody } from './artifact-body.middleware';
import { type ListArtifactsQuery, listArtifactsQuery } from './mlflow.request';
import { MlflowQuery, mlflowError, mlflowErrorResponse, mlflowRespond } from './mlflow-http';

interface ArtifactRequest extends RequestWithArtifactBody {
  path: string;
  headers: RequestWithArtifactBody['headers'];
}

interface BytesResponse {
  setHeader(name: string, value: string): unknown;
  status(code: number): BytesResponse;
  end(body: Buffer): unknown;
}

const PREFIX = /^\/(?:ajax-)?api\/2\.0\/mlflow-artifacts\/artifacts\/?/;

/** The artifact path after `/artifacts/`: `<experiment_id>/<run_id>/artifacts/<file path>`. */
function proxyPathOf(request: ArtifactRequest): string {
  try {
    return decodeURIComponent(request.path.replace(PREFIX, ''));
  } catch {
    throw mlflowError('INVALID_PARAMETER_VALUE', 'the artifact path is not valid percent-encoding', 400);
  }
}

/**
 * MLflow's artifact proxy (`mlflow-artifacts:/` artifact URIs): `log_artifact` uploads here, downloads and
 * listings read from here. Files go to the platform's content-addressed artifact store and are recorded on the run.
 */
@Controller(['api/2.0/mlflow-artifacts', 'ajax-api/2.0/mlflow-artifacts'])
export class MlflowArtifactsHttpController {
  constructor(private readonly tracking: TrackingService) {}

  @Put('artifacts/*path')
  @HttpCode(200)
  @RequireRole('trainer')
  @Operation({
    summary: 'MLflow: upload an artifact of a run',
    rawBody: { description: 'the file', content: { 'application/octet-stream': {} } },
    responses: {
      200: { description: '{}' },
      400: mlflowErrorResponse('INVALID_PARAMETER_VALUE'),
      404: mlflowErrorResponse('RESOURCE_DOES_NOT_EXIST'),
    },
  })
  async upload(@Req() request: ArtifactRequest) {
    const body = request.artifactBody;
    if (body === 'too_large') throw mlflowError('INVALID_PARAMETER_VALUE', 'the artifact is too large', 413);
    const mediaType = String(request.headers['content-type'] ?? 'application/octet-stream').split(';')[0] as string;
    mlflowRespond(await this.tracking.putArtifact(proxyPathOf(request), body ?? Buffer.alloc(0), mediaType));
    return {};
  }

  @Get('artifacts/*path')
  @RequireRole('reader')
  @Operation({
    summary: 'MLflow: download an artifact of a run',
    responses: { 200: { description: 'the file' }, 404: mlflowErrorResponse('RESOURCE_DOES_NOT_EXIST') },
  })
  async download(@Req() request: ArtifactRequest, @Res() response: BytesResponse): Promise<void> {
    const { artifact, bytes } = mlflowRespond(await this.tracking.artifact(proxyPathOf(request)));
    response.setHeader('Content-Type', artifact.mediaType);
    response.setHeader('Content-Length', String(bytes.length));
    response.status(200).end(bytes);
  }

  @Get('artifacts')
  @RequireRole('reader')
  @Operation({
    summary: 'MLflow: list the artifacts under a path',
    responses: {
      200: { description: '{files: [{path, is_dir, file_size}]}' },
      404: mlflowErrorResponse('RESOURCE_DOES_NOT_EXIST'),
    },
  })
  async list(@MlflowQuery(listArtifactsQuery) query: ListArtifactsQuery) {
    const files = mlflowRespond(await this.tracking.listArtifacts(query.path ?? ''));
    return {
      files: files.map((file) => ({
        path: file.path,
        is_dir: file.isDir,
        ...(file.fileSize !== undefined ? { file_size: file.fileSize } : {}),
      })),
    };
  }
}
