import { Controller, HttpException, HttpStatus, Post, Req, Res } from '@nestjs/common';
import { RequireRole } from '@mlops/auth';
import { Operation, type StatusByKind, ValidParams, ValidQuery, errorResponse, throwHttpError } from '@mlops/http';
import { type IngestBatchErrorKind, IngestRecordBatchService } from './ingest-record-batch.service';
import {
  type IngestRecordsParams,
  type IngestRecordsQuery,
  ingestRecordsParams,
  ingestRecordsQuery,
  recordsBodyContent,
} from './ingest-records.request';
import { type IngestRecordsResponse, ingestRecordsResponse, unavailableBody } from './ingest-records.response';
import type { RequestWithRawBody } from './raw-body.middleware';

const limitDetails = {
  type: 'object',
  required: ['limit'],
  properties: {
    limit: { type: 'integer', description: 'bytes of a body, or records of a batch' },
    records: { type: 'integer' },
  },
} as const;

type CallerErrorKind = Exclude<IngestBatchErrorKind, 'hash_key_missing' | 'kafka_unavailable'>;

const STATUS: StatusByKind<{ kind: CallerErrorKind; message: string }> = {
  unsupported_media_type: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  malformed_json: HttpStatus.BAD_REQUEST,
  invalid_body: HttpStatus.BAD_REQUEST,
  empty_body: HttpStatus.BAD_REQUEST,
  body_too_large: HttpStatus.PAYLOAD_TOO_LARGE,
  batch_too_large: HttpStatus.PAYLOAD_TOO_LARGE,
  unknown_dataset: HttpStatus.NOT_FOUND,
};

/**
 * `POST /datasets/:name/records[?version=N]` with `application/json` (a record or an array of records) or
 * `application/x-ndjson` (one per line); a record may be wrapped as `{"recordId": "...", "record": {...}}`.
 * 200 when every record was accepted, 207 when some were rejected (per-record results either way);
 * 400/404/413/415 for the request as a whole; 503 when Kafka did not acknowledge (nothing accepted).
 */
@Controller('datasets')
export class IngestRecordsHttpController {
  constructor(private readonly service: IngestRecordBatchService) {}

  @Post(':name/records')
  @RequireRole('producer')
  @Operation({
    summary: 'Ingest records of a dataset',
    description:
      'Each record is checked against the dataset record schema and emitted as mlops.data.validated.v1 or mlops.data.rejected.v1.',
    rawBody: {
      description: 'one record, an array of records, or NDJSON; a record may be wrapped as {recordId, record}',
      content: recordsBodyContent,
    },
    responses: {
      200: { description: 'every record accepted', schema: ingestRecordsResponse },
      207: { description: 'some records rejected, each with every error', schema: ingestRecordsResponse },
      400: errorResponse('a body that is not JSON, holds no records, or is not records', [
        'malformed_json',
        'empty_body',
        'invalid_body',
      ]),
      404: errorResponse('the dataset (or that version) is not registered', 'unknown_dataset'),
      413: errorResponse(
        'the body or the batch is over its limit: split it',
        ['body_too_large', 'batch_too_large'],
        limitDetails,
      ),
      415: errorResponse('a content type other than JSON or NDJSON', 'unsupported_media_type'),
      503: {
        description: 'Kafka did not acknowledge, or the service has no hash key: nothing counts, retry',
        schema: unavailableBody,
      },
    },
  })
  async ingest(
    @ValidParams(ingestRecordsParams) params: IngestRecordsParams,
    @ValidQuery(ingestRecordsQuery) query: IngestRecordsQuery,
    @Req() req: RequestWithRawBody,
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ): Promise<IngestRecordsResponse> {
    const body = req.rawRecordsBody ?? { tooLarge: false, text: '' };
    const version = query.version === undefined ? undefined : Number(query.version);
    const answer = await this.service.ingest({
      dataset: params.name,
      version,
      contentType: req.headers['content-type'],
      body,
      ...(query.knownAt !== undefined ? { knownAt: query.knownAt } : {}),
    });
    if (!answer.ok) {
      const { kind, message } = answer.error;
      // The service's own failures: a 503 also says how much of the request counts (nothing).
      if (kind === 'hash_key_missing' || kind === 'kafka_unavailable')
        throw new HttpException({ error: kind, message, accepted: 0 }, HttpStatus.SERVICE_UNAVAILABLE);
      throwHttpError({ ...answer.error, kind }, STATUS);
    }
    res.status(answer.value.rejected > 0 ? HttpStatus.MULTI_STATUS : HttpStatus.OK);
    return answer.value;
  }
}
