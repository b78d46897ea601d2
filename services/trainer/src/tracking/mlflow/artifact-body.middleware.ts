import type { IncomingMessage, ServerResponse } from 'node:http';

export type RequestWithArtifactBody = IncomingMessage & { artifactBody?: Buffer | 'too_large'; _body?: boolean };

const ARTIFACT_UPLOAD = /^\/(ajax-)?api\/2\.0\/mlflow-artifacts\/artifacts\//;

/**
 * Reads the body of an artifact upload (`PUT /api/2.0/mlflow-artifacts/artifacts/<path>`) as bytes, whatever its
 * content type, before Nest's JSON parser could take a `.json` artifact for a request body.
 */
export function rawArtifactBody(maxBytes: number) {
  return (req: RequestWithArtifactBody, _res: ServerResponse, next: (error?: unknown) => void): void => {
    if (req.method !== 'PUT' || !ARTIFACT_UPLOAD.test(req.url ?? '')) return next();
    req._body = true; // body-parser skips requests whose body was already read
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= maxBytes) chunks.push(chunk);
    });
    req.on('end', () => {
      req.artifactBody = bytes > maxBytes ? 'too_large' : Buffer.concat(chunks);
      next();
    });
    req.on('error', next);
  };
}
