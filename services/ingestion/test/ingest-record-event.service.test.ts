import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { EntityManager } from 'typeorm';
import { loadConfig } from '@mlops/config';
import { EventTypes } from '@mlops/contracts';
import { newEvent } from '@mlops/messaging';
import { IngestionConfigSpec } from '../src/config';
import type { DatasetVersion } from '../src/domain/dataset';
import { outcomeEventId } from '../src/domain/event-ids';
import type { AcceptedRecords } from '../src/infrastructure/accepted-records';
import type { DatasetStore } from '../src/infrastructure/dataset-store';
import { RecordValidators } from '../src/infrastructure/record-validators';
import { QualityTracker } from '../src/quality/quality-tracker';
import { IngestRecordEventService } from '../src/records/ingest-records/ingest-record-event.service';

const dataset: DatasetVersion = {
  name: 'customers',
  version: 1,
  role: 'features',
  recordSchema: {
    type: 'object',
    required: ['id', 'at'],
    properties: {
      id: { type: 'string' },
      at: { type: 'string', format: 'date-time' },
      email: { type: 'string' },
      note: { type: 'string' },
    },
  },
  entityKeyField: 'id',
  eventTimeField: 'at',
  sensitiveFields: { email: 'hash' },
  registeredAt: new Date(0),
};

/** The outbox rows a transaction would write: one per enqueued event. */
class FakeTransaction {
  readonly outbox: Array<{ topic: string; key: string; id: string }> = [];
  // The transaction's own query runner, as libs/storage's typed SQL reaches it (structured results).
  readonly manager = {
    queryRunner: {
      isReleased: false,
      query: async (
        _sql: string,
        params: [string[], string[], string[]],
      ): Promise<{ records: []; affected: number }> => {
        params[0].forEach((topic, i) => {
          const headers = JSON.parse(params[2][i]!) as Record<string, string>;
          this.outbox.push({ topic, key: params[1][i]!, id: headers.ce_id! });
        });
        return { records: [], affected: params[0].length };
      },
    },
  } as unknown as EntityManager;
}

function service(options: { env?: Record<string, string>; acceptedBefore?: string[] } = {}) {
  const config = loadConfig('ingestion', IngestionConfigSpec, {
    DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    INGESTION_HASH_KEY: 'x'.repeat(32),
    ...options.env,
  });
  const marked: string[] = [];
  const acceptedRecords = {
    markAccepted: async (_dataset: string, rows: Array<{ recordId: string }>) => {
      marked.push(...rows.map((r) => r.recordId));
      return new Set(rows.map((r) => r.recordId).filter((id) => !options.acceptedBefore?.includes(id)));
    },
  };
  const datasets = {
    latest: async (name: string) => (name === dataset.name ? dataset : undefined),
    version: async () => undefined,
  };
  const ingest = new IngestRecordEventService(
    datasets as unknown as DatasetStore,
    new RecordValidators(),
    acceptedRecords as unknown as AcceptedRecords,
    new QualityTracker(new Registry()),
    config,
  );
  return { ingest, marked };
}

const source = 'urn:mlops:test-upstream';
const recordEvent = (
  data: { dataset?: string; recordId?: string; record?: Record<string, unknown>; entityId?: string } = {},
) =>
  newEvent(
    EventTypes.DataRecordV1,
    {
      dataset: data.dataset ?? 'customers',
      entityId: data.entityId ?? 'c-1',
      record: data.record ?? { id: 'c-1', at: '2025-11-20T08:00:00Z', email: 'c-1@example.com' },
      ...(data.recordId !== undefined ? { recordId: data.recordId } : {}),
    },
    { source },
  );

describe('ingesting a record event from Kafka', () => {
  test('a valid record is validated into the outbox, under the id derived from dataset + record id', async () => {
    const { ingest, marked } = service();
    const tx = new FakeTransaction();
    const event = recordEvent({ recordId: 'r-1' });
    const outcome = await ingest.ingest(event, tx.manager);
    assert.deepEqual(outcome, { ok: true, value: 'validated' });
    const id = outcomeEventId(EventTypes.DataValidatedV1, 'customers', { recordId: 'r-1', sourceEventId: event.id });
    assert.deepEqual(tx.outbox, [{ topic: EventTypes.DataValidatedV1, key: 'customers/c-1', id }]);
    assert.deepEqual(marked, ['r-1']);
  });

  test('an invalid record is rejected into the outbox and its record id is not remembered', async () => {
    const { ingest, marked } = service();
    const tx = new FakeTransaction();
    const outcome = await ingest.ingest(recordEvent({ recordId: 'r-2', entityId: 'someone-else' }), tx.manager);
    assert.deepEqual(outcome, { ok: true, value: 'rejected' });
    assert.deepEqual(
      tx.outbox.map((row) => row.topic),
      [EventTypes.DataRejectedV1],
    );
    assert.deepEqual(marked, []);
  });

  test('a record of an unregistered dataset is rejected with the record withheld', async () => {
    const { ingest } = service();
    const tx = new FakeTransaction();
    const outcome = await ingest.ingest(recordEvent({ dataset: 'orders' }), tx.manager);
    assert.deepEqual(outcome, { ok: true, value: 'withheld' });
    assert.deepEqual(
      tx.outbox.map((row) => row.topic),
      [EventTypes.DataRejectedV1],
    );
  });

  test('a record id accepted before is a duplicate: nothing is written', async () => {
    const { ingest } = service({ acceptedBefore: ['r-3'] });
    const tx = new FakeTransaction();
    const outcome = await ingest.ingest(recordEvent({ recordId: 'r-3' }), tx.manager);
    assert.deepEqual(outcome, { ok: true, value: 'duplicate' });
    assert.deepEqual(tx.outbox, []);
  });

  test('a dataset with hashed fields and no hash key is a permanent failure; nothing is written', async () => {
    const { ingest } = service({ env: { INGESTION_HASH_KEY: '' } });
    const tx = new FakeTransaction();
    const outcome = await ingest.ingest(recordEvent({ recordId: 'r-4' }), tx.manager);
    assert.ok(!outcome.ok);
    assert.equal(outcome.error.kind, 'hash_key_missing');
    assert.deepEqual(tx.outbox, []);
  });

  test('an outcome event larger than an event may be is a permanent failure, refused before the record id is remembered', async () => {
    const { ingest, marked } = service({ env: { MAX_EVENT_BYTES: '1024' } });
    const tx = new FakeTransaction();
    const record = { id: 'c-1', at: '2025-11-20T08:00:00Z', note: 'n'.repeat(2_000) };
    const outcome = await ingest.ingest(recordEvent({ recordId: 'r-5', record }), tx.manager);
    assert.ok(!outcome.ok);
    assert.equal(outcome.error.kind, 'event_too_large');
    assert.match(outcome.error.message, /over the 1024 bytes an event may have/);
    assert.deepEqual([tx.outbox, marked], [[], []]);
  });
});
