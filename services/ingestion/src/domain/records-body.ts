/** Turning an HTTP body into records: JSON (one object or an array) or NDJSON (one record per line). */
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { type Json, type JsonObject, isJsonObject } from './json';
import { idProblem } from './record-guards';
import { isRfc3339 } from './record-check';

export type BodyFormat = 'json' | 'ndjson';

/** One item of a body: a record (maybe with its upstream id), or why it could not be read. */
export type BodyItem = RecordItem | UnreadableItem;
export interface RecordItem {
  index: number;
  /** NDJSON line number (1-based). */
  line?: number;
  ok: true;
  record: JsonObject;
  recordId?: string;
  /** When upstream knew the record, if earlier than now (envelope `knownAt`, RFC 3339). */
  knownAt?: string;
}
export interface UnreadableItem {
  index: number;
  line?: number;
  ok: false;
  error: string;
}

/** Why a body as a whole cannot be read. */
export type BodyErrorKind =
  'unsupported_media_type' | 'malformed_json' | 'batch_too_large' | 'empty_body' | 'invalid_body';

const FORMATS: Record<string, BodyFormat> = {
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'application/x-jsonlines': 'ndjson',
};

/** The body format from a Content-Type header (parameters such as charset are ignored). */
export function formatOf(contentType: string | undefined): BodyFormat | undefined {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  return mediaType ? FORMATS[mediaType] : undefined;
}

export const SUPPORTED_MEDIA_TYPES = Object.keys(FORMATS);

const ENVELOPE_KEYS = new Set(['record', 'recordId', 'knownAt']);

/**
 * Splits a body into items, at most `maxBatch`. A malformed NDJSON line becomes a failed item and the
 * other lines still count; a JSON body that does not parse is an error of the whole request.
 */
export function parseRecordsBody(
  contentType: string | undefined,
  body: string,
  maxBatch: number,
): Result<BodyItem[], DomainError<BodyErrorKind>> {
  const format = formatOf(contentType);
  if (!format) {
    const supported = SUPPORTED_MEDIA_TYPES.join(', ');
    return err(
      domainError(
        'unsupported_media_type',
        `Content-Type "${contentType ?? '(none)'}" is not supported; send one of ${supported}`,
      ),
    );
  }
  let values: Array<{ line?: number; value?: Json; error?: string }>;
  if (format === 'json') {
    let parsed: Json;
    try {
      parsed = JSON.parse(body) as Json;
    } catch (error) {
      return err(domainError('malformed_json', `the body is not valid JSON: ${(error as Error).message}`));
    }
    if (!Array.isArray(parsed) && !isJsonObject(parsed)) {
      return err(domainError('invalid_body', 'a JSON body must be one record (an object) or an array of records'));
    }
    values = (Array.isArray(parsed) ? parsed : [parsed]).map((value) => ({ value }));
  } else {
    values = [];
    body.split('\n').forEach((raw, i) => {
      const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (text.trim() === '') return;
      try {
        values.push({ line: i + 1, value: JSON.parse(text) as Json });
      } catch (error) {
        values.push({ line: i + 1, error: `line ${i + 1} is not valid JSON: ${(error as Error).message}` });
      }
    });
  }
  if (values.length === 0) return err(domainError('empty_body', 'the body holds no records'));
  if (values.length > maxBatch) {
    const message = `the body holds ${values.length} records, more than the ${maxBatch} allowed per request; split it`;
    return err(domainError('batch_too_large', message, { records: values.length, limit: maxBatch }));
  }
  return ok(values.map((v, index) => toItem(index, v)));
}

function toItem(index: number, { line, value, error }: { line?: number; value?: Json; error?: string }): BodyItem {
  const where = line !== undefined ? { line } : {};
  if (error !== undefined) return { index, ...where, ok: false, error };
  if (!isJsonObject(value))
    return {
      index,
      ...where,
      ok: false,
      error: `record ${line !== undefined ? `on line ${line}` : index} must be a JSON object`,
    };
  // Record schemas are flat, so an object under "record" can only be an envelope carrying the record's upstream id.
  if (isJsonObject(value.record) && Object.keys(value).every((k) => ENVELOPE_KEYS.has(k))) {
    const { recordId, knownAt } = value;
    if (recordId !== undefined && typeof recordId !== 'string') {
      return { index, ...where, ok: false, error: 'recordId must be a string of 1..256 characters' };
    }
    const problem = recordId !== undefined ? idProblem('recordId', recordId) : undefined;
    if (problem !== undefined) return { index, ...where, ok: false, error: problem };
    if (knownAt !== undefined && (typeof knownAt !== 'string' || !isRfc3339(knownAt))) {
      return { index, ...where, ok: false, error: 'knownAt must be an RFC 3339 date-time with a time zone' };
    }
    return {
      index,
      ...where,
      ok: true,
      record: value.record,
      ...(recordId !== undefined ? { recordId } : {}),
      ...(knownAt !== undefined ? { knownAt } : {}),
    };
  }
  return { index, ...where, ok: true, record: value };
}
