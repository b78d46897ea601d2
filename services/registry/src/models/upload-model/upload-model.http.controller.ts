import { Controller, Headers, HttpCode, HttpException, HttpStatus, Post, Req } from '@nestjs/common';
import { Audited, CurrentPrincipal, type Principal, RequireRole } from '@mlops/auth';
import { Operation, ValidParams, errorResponse, invalidRequest, requestValidator, respond } from '@mlops/http';
import type { VersionRecord } from '../../infrastructure/catalog-store';
import { type ModelParams, modelParams } from '../params';
import type { RequestWithUpload } from './upload-body.middleware';
import { type UploadMetadata, uploadMetadata } from './upload-model.request';
import { UploadModelService } from './upload-model.service';

const METADATA_HEADER = 'x-model-metadata';
const MEDIA_TYPES = ['application/octet-stream', 'application/onnx'];
const validateMetadata = requestValidator<UploadMetadata>(uploadMetadata, 'X-Model-Metadata schema');

/** `POST /models/:name/versions`: upload an ONNX model trained elsewhere (role data-steward). */
@Controller('models/:name/versions')
export class UploadModelHttpController {
  constructor(private readonly service: UploadModelService) {}

  @Post()
  @HttpCode(HttpStatus.CREATED)
  @RequireRole('data-steward')
  @Audited()
  @Operation({
    summary:
      'Upload an external ONNX model: body = the file, X-Model-Metadata = JSON (task, feature view, signature, metrics)',
    description:
      'ONNX Runtime loads it and its inputs/outputs are checked against the declared signature; a refused upload stores nothing.',
    rawBody: {
      description: 'the ONNX file',
      content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
    },
    responses: {
      201: { description: 'the new version', schema: { type: 'object' } },
      400: errorResponse('missing or invalid X-Model-Metadata, or an empty body', 'invalid_metadata'),
      409: errorResponse('the model exists with another task', 'task_mismatch'),
      413: errorResponse('larger than REGISTRY_MAX_UPLOAD_BYTES', 'upload_too_large'),
      415: errorResponse('not application/octet-stream or application/onnx', 'unsupported_media_type'),
      422: errorResponse('not ONNX, corrupt, or inputs/outputs unlike the declaration', 'signature_mismatch'),
    },
  })
  async upload(
    @ValidParams(modelParams) params: ModelParams,
    @Headers('content-type') contentType: string | undefined,
    @Headers(METADATA_HEADER) metadataHeader: string | undefined,
    @Req() req: RequestWithUpload,
    @CurrentPrincipal() actor: Principal,
  ): Promise<VersionRecord> {
    const body = req.uploadBody;
    if (body?.tooLarge) {
      throw new HttpException(
        { error: 'upload_too_large', message: `the upload has ${body.size} bytes, more than the limit` },
        413,
      );
    }
    const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (!MEDIA_TYPES.includes(mediaType)) {
      throw new HttpException(
        {
          error: 'unsupported_media_type',
          message: `send the ONNX file as ${MEDIA_TYPES.join(' or ')}, not "${mediaType}"`,
        },
        415,
      );
    }
    const metadata = this.metadataOf(metadataHeader);
    const result = await this.service.upload(params.name, metadata, body?.bytes ?? Buffer.alloc(0), actor);
    return respond(result, {
      empty_upload: 400,
      not_onnx: 422,
      corrupt_onnx: 422,
      signature_mismatch: 422,
      task_mismatch: 409,
    });
  }

  private metadataOf(header: string | undefined): UploadMetadata {
    if (header === undefined) {
      throw new HttpException(
        { error: 'invalid_metadata', message: `the ${METADATA_HEADER} header (JSON) is required` },
        400,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(header);
    } catch {
      throw new HttpException({ error: 'invalid_metadata', message: `the ${METADATA_HEADER} header is not JSON` }, 400);
    }
    const check = validateMetadata(parsed);
    if (!check.ok) throw invalidRequest(METADATA_HEADER, check.issues);
    return check.value;
  }
}
