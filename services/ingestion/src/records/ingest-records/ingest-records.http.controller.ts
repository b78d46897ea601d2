import { Controller, Headers, HttpException, HttpStatus, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { BatchAnswer } from '../../domain/record-batch';
import { type IngestBatchErrorKind, IngestRecordBatchService } from './ingest-record-batch.service';
import type { RequestWithRawBody } from './raw-body.middleware';

const STATUS: Record<IngestBatchErrorKind, HttpStatus> = {
  unsupported_media_type: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  malformed_json: HttpStatus.BAD_REQUEST,
  invalid_body: HttpStatus.BAD_REQUEST,
  empty_body: HttpStatus.BAD_REQUEST,
  body_too_large: HttpStatus.PAYLOAD_TOO_LARGE,
  batch_too_large: HttpStatus.PAYLOAD_TOO_LARGE,
  unknown_dataset: HttpStatus.NOT_FOUND,
  hash_key_missing: HttpStatus.SERVICE_UNAVAILABLE,
  kafka_unavailable: HttpStatus.SERVICE_UNAVAILABLE,
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
  async ingest(
    @Param('name') name: string,
    @Query('version') version: string | undefined,
    @Headers('content-type') contentType: string | undefined,
    @Req() req: RequestWithRawBody,
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ): Promise<BatchAnswer> {
    if (version !== undefined && !/^[1-9]\d{0,8}$/.test(version)) {
      throw new HttpException({ error: 'invalid_version', message: `version must be a positive integer, got "${version}"` }, HttpStatus.BAD_REQUEST);
    }
    const body = req.rawRecordsBody ?? { tooLarge: false, text: '' };
    const answer = await this.service.ingest({ dataset: name, version: version === undefined ? undefined : Number(version), contentType, body });
    if (!answer.ok) {
      const { kind, message } = answer.error;
      const status = STATUS[kind];
      // A 503 says how much of the request counts: nothing.
      throw new HttpException({ error: kind, message, ...(status === HttpStatus.SERVICE_UNAVAILABLE ? { accepted: 0 } : {}) }, status);
    }
    res.status(answer.value.rejected > 0 ? HttpStatus.MULTI_STATUS : HttpStatus.OK);
    return answer.value;
  }
}
