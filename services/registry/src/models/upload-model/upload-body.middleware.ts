import type { IncomingMessage, ServerResponse } from 'node:http';

/** The ONNX bytes of an upload, or how many bytes a too-large one had. */
export type UploadBody =
  { readonly tooLarge: false; readonly bytes: Buffer } | { readonly tooLarge: true; readonly size: number };

export type RequestWithUpload = IncomingMessage & { uploadBody?: UploadBody; _body?: boolean };

const UPLOAD_PATH = /^\/models\/[^/?]+\/versions\/?(\?|$)/;

/**
 * Reads the body of `POST /models/:name/versions` as bytes, up to `maxBytes`, before Nest's parsers could. A body
 * over the limit is drained (kept nowhere) and marked too large, so the client reads a clear 413.
 */
export function uploadBody(maxBytes: number) {
  // Past this, the sender is not a client waiting for an answer: cut the connection.
  const hardLimit = Math.max(maxBytes * 4, 256 * 1024 * 1024);
  return (req: RequestWithUpload, _res: ServerResponse, next: (error?: unknown) => void): void => {
    if (req.method !== 'POST' || !UPLOAD_PATH.test(req.url ?? '')) return next();
    req._body = true; // body-parser skips requests whose body was already read
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
      else if (size > hardLimit) req.destroy();
    });
    req.on('end', () => {
      req.uploadBody = size > maxBytes ? { tooLarge: true, size } : { tooLarge: false, bytes: Buffer.concat(chunks) };
      next();
    });
    req.on('error', (error) => next(error));
  };
}
