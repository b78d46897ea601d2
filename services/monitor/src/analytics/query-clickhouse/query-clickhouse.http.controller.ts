import { Controller, Get, HttpException, Post, Req, Res } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { RequireRole } from '@mlops/auth';
import { Operation, ValidQuery } from '@mlops/http';
import { type ClickHouseQuery, clickhouseQuery } from './query-clickhouse.request';
import { QueryClickHouseService } from './query-clickhouse.service';

interface RawRequest extends Readable {
  readonly body?: unknown;
}
interface RawResponse {
  status(code: number): RawResponse;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
}

const MAX_BODY_BYTES = 1_000_000;
const CONTENT_TYPES: Record<string, string> = {
  JSON: 'application/json; charset=UTF-8',
  JSONCompact: 'application/json; charset=UTF-8',
  JSONEachRow: 'application/x-ndjson; charset=UTF-8',
  CSV: 'text/csv; charset=UTF-8',
  CSVWithNames: 'text/csv; charset=UTF-8',
};

/**
 * The ClickHouse HTTP interface for analysts, read-only: GET or POST /clickhouse?query=...&default_format=...
 * (POST: the query in the body, as clients send it). @clickhouse/client (url .../clickhouse, bearer token in
 * http_headers) and curl work against it. Errors answer like ClickHouse: a status and `Code: ...` text.
 */
@Controller()
export class QueryClickHouseHttpController {
  constructor(private readonly service: QueryClickHouseService) {}

  @Get('clickhouse')
  @RequireRole('analyst')
  @Operation({
    summary: 'Run a read-only SELECT on the monitor tables (ClickHouse HTTP interface)',
    responses: {
      200: { description: 'the result in the requested format' },
      400: { description: 'ClickHouse error text' },
    },
  })
  async get(@ValidQuery(clickhouseQuery) query: ClickHouseQuery, @Res() res: RawResponse): Promise<void> {
    await this.answer(query.query ?? '', query, res);
  }

  @Post('clickhouse')
  @RequireRole('analyst')
  @Operation({
    summary: 'Run a read-only SELECT sent in the body (ClickHouse HTTP interface)',
    responses: {
      200: { description: 'the result in the requested format' },
      400: { description: 'ClickHouse error text' },
    },
  })
  async post(
    @ValidQuery(clickhouseQuery) query: ClickHouseQuery,
    @Req() req: RawRequest,
    @Res() res: RawResponse,
  ): Promise<void> {
    const body = typeof req.body === 'string' ? req.body : await readBody(req);
    await this.answer([query.query ?? '', body].filter((p) => p !== '').join('\n'), query, res);
  }

  private async answer(text: string, query: ClickHouseQuery, res: RawResponse): Promise<void> {
    const params: Record<string, string> = {};
    for (const [key, value] of Object.entries(query))
      if (key.startsWith('param_') && typeof value === 'string') params[key.slice('param_'.length)] = value;
    const result = await this.service.run(text, query.default_format, params);
    if (!result.ok) {
      const code =
        result.error.kind === 'query_failed' ? (/Code: (\d+)/.exec(result.error.message)?.[1] ?? '0') : '164';
      const message = result.error.message.startsWith('Code:')
        ? result.error.message
        : `Code: ${code}. DB::Exception: ${result.error.message}`;
      res.status(400).setHeader('Content-Type', 'text/plain; charset=UTF-8');
      res.setHeader('X-ClickHouse-Exception-Code', code);
      res.end(message);
      return;
    }
    res.status(200).setHeader('Content-Type', CONTENT_TYPES[result.value.format] ?? 'text/plain; charset=UTF-8');
    res.setHeader('X-ClickHouse-Format', result.value.format);
    const chunks: Buffer[] = [];
    for await (const chunk of result.value.stream) chunks.push(Buffer.from(chunk as Uint8Array));
    res.end(Buffer.concat(chunks).toString('utf8'));
  }
}

async function readBody(req: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpException({ error: 'payload_too_large', message: 'query too long' }, 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
