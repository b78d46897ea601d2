import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AuthSettings, type TokenVerifier, bearerOf } from '@mlops/auth';

/** The ONNX bytes of an upload, or how many bytes a too-large one had. */
export type UploadBody =
  { readonly tooLarge: false; readonly bytes: Buffer } | { readonly tooLarge: true; readonly size: number };

export type RequestWithUpload = IncomingMessage & { uploadBody?: UploadBody; _body?: boolean };

const UPLOAD_PATH = /^\/models\/[^/?]+\/versions\/?(\?|$)/;

/** Who may send upload bytes: a request whose bearer token verifies (the route's guard then checks its role). */
export interface UploadAuth {
  readonly settings: Pick<AuthSettings, 'disabled'>;
  readonly verifier: Pick<TokenVerifier, 'verify'>;
}

/**
 * Reads the body of `POST /models/:name/versions` as bytes, up to `maxBytes`, before Nest's parsers could. A body
 * over the limit is drained (kept nowhere) and marked too large, so the client reads a clear 413.
 *
 * Nothing is read for a request without a valid token: it goes on unread, and the guard answers 401 before any
 * handler runs, so an anonymous client cannot make the registry hold megabytes.
 */
export function uploadBody(maxBytes: number, auth: UploadAuth) {
  // Past this, the sender is not a client waiting for an answer: cut the connection.
  const hardLimit = Math.max(maxBytes * 4, 256 * 1024 * 1024);
  const authenticated = async (req: IncomingMessage): Promise<boolean> => {
    if (auth.settings.disabled) return true;
    const header = req.headers.authorization;
    const bearer = bearerOf(Array.isArray(header) ? header[0] : header);
    return bearer.ok && (await auth.verifier.verify(bearer.value)).ok;
  };
  return (req: RequestWithUpload, res: ServerResponse, next: (error?: unknown) => void): void => {
    if (req.method !== 'POST' || !UPLOAD_PATH.test(req.url ?? '')) return next();
    req._body = true; // body-parser skips requests whose body was already read (or is refused unread)
    authenticated(req).then(
      (ok) => {
        if (!ok) {
          // The refusal is the guard's (401 with its reason, audited); the unread body is not kept alive after it.
          res.setHeader('Connection', 'close');
          return next();
        }
        read(req, maxBytes, hardLimit, next);
      },
      (error: unknown) => next(error),
    );
  };
}

function read(req: RequestWithUpload, maxBytes: number, hardLimit: number, next: (error?: unknown) => void): void {
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
}
