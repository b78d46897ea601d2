import { Controller, Headers, HttpException, HttpStatus, Param, Post, Query, Req, Res, ServiceUnavailableException } from '@nestjs/common';
import { type IngestResponse, IngestRecordsService } from './ingest-records.service';
import type { RequestWithRawBody } from './raw-body.middleware';

/**
 * `POST /datasets/:name/records[?version=N]` with `application/json` (a record or an array of records) or
 * `application/x-ndjson` (one per line); a record may be wrapped as `{"recordId": "...", "record": {...}}`.
 * 200 when every record was accepted, 207 when some were rejected (per-record results either way);
 * 400/404/413/415 for the request as a whole; 503 when Kafka did not acknowledge (nothing accepted).
 */
@Controller('datasets')
export class IngestRecordsHttpController {
  constructor(private readonly service: IngestRecordsService) {}

  @Post(':name/records')
  async ingest(
    @Param('name') name: string,
    @Query('version') version: string | undefined,
    @Headers('content-type') contentType: string | undefined,
    @Req() req: RequestWithRawBody,
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ): Promise<IngestResponse> {
    if (version !== undefined && !/^[1-9]\d{0,8}$/.test(version)) {
      throw new HttpException({ error: 'invalid_version', message: `version must be a positive integer, got "${version}"` }, HttpStatus.BAD_REQUEST);
    }
    const body = req.rawRecordsBody ?? { tooLarge: false, text: '' };
    const outcome = await this.service.ingestHttp(name, version === undefined ? undefined : Number(version), contentType, body);
    switch (outcome.kind) {
      case 'refused':
        throw new HttpException({ error: outcome.error, message: outcome.message }, outcome.status);
      case 'unavailable':
        throw new ServiceUnavailableException({ error: outcome.error, message: outcome.message, accepted: 0 });
      case 'done':
        res.status(outcome.response.rejected > 0 ? HttpStatus.MULTI_STATUS : HttpStatus.OK);
        return outcome.response;
    }
  }
}
