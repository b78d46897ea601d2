import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RawBody } from './ingest-record-batch.service';

export type RequestWithRawBody = IncomingMessage & { rawRecordsBody?: RawBody; _body?: boolean };

const RECORDS_PATH = /^\/datasets\/[^/?]+\/records\/?(\?|$)/;

/**
 * Reads the body of `POST /datasets/:name/records` as text, up to `maxBytes`, before Nest's JSON parser could:
 * NDJSON needs the raw text, a malformed line must not fail the whole request, and the size limit is ours.
 * A body over the limit is drained and marked too large, so the client still reads a clear 413.
 */
export function rawRecordsBody(maxBytes: number) {
  // Past this, the sender is not a client waiting for an answer: cut the connection.
  const hardLimit = Math.max(maxBytes * 16, 64 * 1024 * 1024);
  return (req: RequestWithRawBody, _res: ServerResponse, next: (error?: unknown) => void): void => {
    if (req.method !== 'POST' || !RECORDS_PATH.test(req.url ?? '')) return next();
    req._body = true; // body-parser skips requests whose body was already read
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= maxBytes) chunks.push(chunk);
      else if (bytes > hardLimit) req.destroy();
    });
    req.on('end', () => {
      req.rawRecordsBody =
        bytes > maxBytes
          ? { tooLarge: true, bytes }
          : { tooLarge: false, text: Buffer.concat(chunks).toString('utf8') };
      next();
    });
    req.on('error', (error) => next(error));
  };
}
