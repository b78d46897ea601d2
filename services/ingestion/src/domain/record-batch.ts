/** A batch of records (one HTTP request): what becomes of each item, and the answer given for it. */
import type { DatasetVersion } from './dataset';
import { contentRecordKey } from './event-ids';
import type { JsonObject } from './json';
import { type InvalidRecord, type SchemaIssue, type ValidRecord, checkRecord } from './record-check';
import { type EventTimeRange, carriableCopy, eventTimeRange } from './record-guards';
import type { BodyItem, RecordItem, UnreadableItem } from './records-body';

/** What is decided for an item before anything is sent; `recordKey`: its recordId, else its content key. */
export type ItemDecision =
  | { kind: 'unreadable'; item: UnreadableItem }
  | { kind: 'invalid'; item: RecordItem; recordKey: string; verdict: InvalidRecord }
  /** Its record key was accepted before (or earlier in the batch): answered, not emitted again. */
  | { kind: 'duplicate'; item: RecordItem; recordKey: string; verdict: ValidRecord }
  | { kind: 'valid'; item: RecordItem; recordKey: string; verdict: ValidRecord };

/** The decisions that emit an event (validated or rejected). */
export type EmittingDecision = Extract<ItemDecision, { kind: 'invalid' | 'valid' }>;

/** What identifies a record of a dataset: its recordId, or (without one) a hash of its content. */
export function recordKeyOf(dataset: string, item: RecordItem): string {
  return item.recordId ?? contentRecordKey(dataset, carriableCopy(item.record));
}

/** Record keys of the readable items: the ones to look up among the keys accepted before. */
export function recordKeysOf(dataset: string, items: readonly BodyItem[]): string[] {
  return items.flatMap((item) => (item.ok ? [recordKeyOf(dataset, item)] : []));
}

/** Checks every item; a valid record whose key is in `acceptedBefore`, or repeats an earlier one, is a duplicate. */
export function decideBatch(
  dataset: DatasetVersion,
  items: readonly BodyItem[],
  issuesOf: (record: JsonObject) => readonly SchemaIssue[],
  acceptedBefore: ReadonlySet<string>,
  range: EventTimeRange = eventTimeRange(new Date()),
): ItemDecision[] {
  const seen = new Set<string>();
  return items.map((item): ItemDecision => {
    if (!item.ok) return { kind: 'unreadable', item };
    const recordKey = recordKeyOf(dataset.name, item);
    const verdict = checkRecord(dataset, item.record, () => issuesOf(item.record), undefined, range);
    if (!verdict.ok) return { kind: 'invalid', item, recordKey, verdict };
    const repeated = acceptedBefore.has(recordKey) || seen.has(recordKey);
    seen.add(recordKey);
    return { kind: repeated ? 'duplicate' : 'valid', item, recordKey, verdict };
  });
}

/** What sending an item's event did: the event's id, or why Kafka could never take it. */
export type Delivery = { kind: 'sent'; eventId: string } | { kind: 'too_large'; reason: string };

/** What finally became of an item, once its event (if any) was sent. */
export type ItemOutcome =
  | { kind: 'unreadable'; item: UnreadableItem }
  | { kind: 'too_large'; item: RecordItem; entityId: string; reason: string }
  | { kind: 'rejected'; item: RecordItem; verdict: InvalidRecord; eventId: string }
  | { kind: 'duplicate'; item: RecordItem; recordKey: string; verdict: ValidRecord }
  | { kind: 'accepted'; item: RecordItem; recordKey: string; verdict: ValidRecord; eventId: string };

/** The outcome of a decision given how its event was delivered (emitting decisions only have one). */
export function settle(decision: ItemDecision, delivery: (decision: EmittingDecision) => Delivery): ItemOutcome {
  if (decision.kind === 'unreadable' || decision.kind === 'duplicate') return decision;
  const sent = delivery(decision);
  if (sent.kind === 'too_large')
    return { kind: 'too_large', item: decision.item, entityId: decision.verdict.entityId, reason: sent.reason };
  return decision.kind === 'valid'
    ? {
        kind: 'accepted',
        item: decision.item,
        recordKey: decision.recordKey,
        verdict: decision.verdict,
        eventId: sent.eventId,
      }
    : { kind: 'rejected', item: decision.item, verdict: decision.verdict, eventId: sent.eventId };
}

/** The record keys to remember as accepted (recordIds and content keys), with the id of the event that carried each. */
export function acceptedRecordIds(outcomes: readonly ItemOutcome[]): Array<{ recordId: string; eventId: string }> {
  return outcomes.flatMap((o) => (o.kind === 'accepted' ? [{ recordId: o.recordKey, eventId: o.eventId }] : []));
}

/** The answer for one record of a request. */
export interface RecordResult {
  index: number;
  /** NDJSON line number (1-based). */
  line?: number;
  recordId?: string;
  entityId?: string;
  status: 'accepted' | 'rejected';
  /** The record id was accepted before: nothing was emitted again. */
  duplicate?: true;
  /** Id of the mlops.data.validated.v1 / rejected.v1 event. */
  eventId?: string;
  errors?: Array<{ kind: string; path: string; message: string }>;
}

/** The answer for a whole request: counts and every record's result, in request order. */
export interface BatchAnswer {
  dataset: string;
  datasetVersion: number;
  accepted: number;
  rejected: number;
  duplicates: number;
  results: RecordResult[];
}

export function recordResult(outcome: ItemOutcome): RecordResult {
  const { item } = outcome;
  const base = {
    index: item.index,
    ...(item.line !== undefined ? { line: item.line } : {}),
    ...(item.ok && item.recordId !== undefined ? { recordId: item.recordId } : {}),
  };
  switch (outcome.kind) {
    case 'unreadable':
      return {
        ...base,
        status: 'rejected',
        errors: [{ kind: 'malformed_json', path: '', message: outcome.item.error }],
      };
    case 'too_large':
      return {
        ...base,
        entityId: outcome.entityId,
        status: 'rejected',
        errors: [{ kind: 'too_large', path: '', message: outcome.reason }],
      };
    case 'rejected': {
      const errors = outcome.verdict.errors.map(({ kind, path, message }) => ({ kind, path, message }));
      return { ...base, entityId: outcome.verdict.entityId, status: 'rejected', eventId: outcome.eventId, errors };
    }
    case 'duplicate':
      return { ...base, entityId: outcome.verdict.entityId, status: 'accepted', duplicate: true };
    case 'accepted':
      return { ...base, entityId: outcome.verdict.entityId, status: 'accepted', eventId: outcome.eventId };
  }
}

export function batchAnswer(dataset: DatasetVersion, outcomes: readonly ItemOutcome[]): BatchAnswer {
  const results = outcomes.map(recordResult);
  return {
    dataset: dataset.name,
    datasetVersion: dataset.version,
    accepted: results.filter((r) => r.status === 'accepted').length,
    rejected: results.filter((r) => r.status === 'rejected').length,
    duplicates: results.filter((r) => r.duplicate).length,
    results,
  };
}
