/**
 * What a record must be before any schema or recursive code looks at it: nested at most MAX_RECORD_DEPTH levels,
 * numbers finite (JSON.parse turns `1e999` into Infinity, which no event can carry), ids and times usable by
 * every consumer. Each check here walks iteratively, so a 10k-deep record cannot overflow the stack.
 */
import { type Json, type JsonObject, defineField, escapePointer } from './json';

/** Levels of objects and arrays a record may nest (the record itself is level 1). */
export const MAX_RECORD_DEPTH = 32;
/** Longest entity id and record id, in UTF-16 code units (what the feature store keys rows by). */
export const MAX_ID_LENGTH = 256;
/** Earliest event time accepted: the feature store and ClickHouse store times from the Unix epoch on. */
export const EARLIEST_EVENT_TIME_MS = 0;
/** Default of INGESTION_MAX_FUTURE_SKEW_SECONDS: how far past now an event time may be. */
export const DEFAULT_MAX_FUTURE_SKEW_SECONDS = 86_400;

/** C0 controls (U+0000 included), DEL and C1 controls: invisible, and U+0000 cannot be stored in Postgres text. */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

/** A problem of a record's shape: where, and which rule it breaks. */
export interface ShapeProblem {
  path: string;
  rule: 'too_deep' | 'non_finite_number';
  message: string;
}

/** Every non-finite number and the first place nesting exceeds `maxDepth`, found without recursion. */
export function shapeProblems(record: Json, maxDepth = MAX_RECORD_DEPTH): ShapeProblem[] {
  const problems: ShapeProblem[] = [];
  const stack: Array<{ value: Json; path: string; depth: number }> = [{ value: record, path: '', depth: 0 }];
  let tooDeep = false;
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'number') {
      if (!Number.isFinite(value))
        problems.push({ path, rule: 'non_finite_number', message: 'must be a finite number (got one out of range)' });
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= maxDepth) {
      if (!tooDeep)
        problems.push({
          path,
          rule: 'too_deep',
          message: `nests deeper than ${maxDepth} levels of objects and arrays`,
        });
      tooDeep = true;
      continue;
    }
    if (Array.isArray(value)) value.forEach((v, i) => stack.push({ value: v, path: `${path}/${i}`, depth: depth + 1 }));
    else
      for (const key of Object.keys(value))
        stack.push({ value: value[key]!, path: `${path}/${escapePointer(key)}`, depth: depth + 1 });
  }
  return problems;
}

/**
 * A copy that any event can carry: non-finite numbers become null and what nests past `maxDepth` is cut (null),
 * copied without recursion and with defined fields, so a `__proto__` field stays a plain field.
 */
export function carriableCopy(record: JsonObject, maxDepth = MAX_RECORD_DEPTH): JsonObject {
  const root: JsonObject = {};
  const stack: Array<{ from: Json[] | JsonObject; to: Json[] | JsonObject; depth: number }> = [
    { from: record, to: root, depth: 1 },
  ];
  while (stack.length > 0) {
    const { from, to, depth } = stack.pop()!;
    const keys = Array.isArray(from) ? from.map((_, i) => i) : Object.keys(from);
    for (const key of keys) {
      const value = (from as Record<string | number, Json>)[key]!;
      let copy: Json;
      if (typeof value === 'number') copy = Number.isFinite(value) ? value : null;
      else if (value === null || typeof value !== 'object') copy = value;
      else if (depth >= maxDepth) copy = null;
      else {
        copy = Array.isArray(value) ? [] : {};
        stack.push({ from: value, to: copy, depth: depth + 1 });
      }
      defineField(to, key, copy);
    }
  }
  return root;
}

/** Why an entity id or record id cannot be used, or undefined when it can. */
export function idProblem(what: 'entity id' | 'recordId', id: string): string | undefined {
  if (id.length < 1 || id.length > MAX_ID_LENGTH) return `the ${what} must have 1..${MAX_ID_LENGTH} characters`;
  if (hasControlCharacter(id)) return `the ${what} must not contain NUL or other control characters`;
  return undefined;
}

/** The range an event time must fall in: from the Unix epoch to now plus the allowed skew. */
export interface EventTimeRange {
  earliestMs: number;
  latestMs: number;
}

export function eventTimeRange(now: Date, maxFutureSkewSeconds = DEFAULT_MAX_FUTURE_SKEW_SECONDS): EventTimeRange {
  return { earliestMs: EARLIEST_EVENT_TIME_MS, latestMs: now.getTime() + maxFutureSkewSeconds * 1000 };
}

/** Why an instant is outside the range, or undefined when it is inside. */
export function eventTimeProblem(instantMs: number, range: EventTimeRange): string | undefined {
  if (instantMs < range.earliestMs) return 'must not be before 1970-01-01T00:00:00Z';
  if (instantMs > range.latestMs)
    return `must not be after ${new Date(range.latestMs).toISOString()} (now plus the allowed clock skew)`;
  return undefined;
}
