import 'reflect-metadata';
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Logger } from '@nestjs/common';
import { Registry } from 'prom-client';
import { loadConfig } from '@mlops/config';
import { type CloudEvent, type EventProducer, EventTooLargeError } from '@mlops/messaging';
import { IngestionConfigSpec } from '../src/config';
import type { DatasetVersion } from '../src/domain/dataset';
import type { AcceptedRecords } from '../src/infrastructure/accepted-records';
import type { DatasetStore } from '../src/infrastructure/dataset-store';
import { RecordValidators } from '../src/infrastructure/record-validators';
import { QualityTracker } from '../src/quality/quality-tracker';
import { IngestRecordBatchService } from '../src/records/ingest-records/ingest-record-batch.service';

const dataset: DatasetVersion = {
  name: 'customers',
  version: 1,
  role: 'features',
  recordSchema: {
    type: 'object',
    required: ['id', 'at'],
    properties: { id: { type: 'string' }, at: { type: 'string', format: 'date-time' }, email: { type: 'string' } },
  },
  entityKeyField: 'id',
  eventTimeField: 'at',
  sensitiveFields: { email: 'hash' },
  registeredAt: new Date(0),
};

class FakeAcceptedRecords {
  readonly marked: string[] = [];
  async alreadyAccepted(): Promise<Set<string>> {
    return new Set();
  }
  async markAccepted(_dataset: string, rows: Array<{ recordId: string }>): Promise<Set<string>> {
    this.marked.push(...rows.map((r) => r.recordId));
    return new Set(rows.map((r) => r.recordId));
  }
}

function service(publish: (event: CloudEvent) => Promise<void>, env: Record<string, string> = {}) {
  const config = loadConfig('ingestion', IngestionConfigSpec, {
    DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    INGESTION_HASH_KEY: 'x'.repeat(32),
    INGESTION_PUBLISH_TIMEOUT_MS: '200',
    ...env,
  });
  const accepted = new FakeAcceptedRecords();
  const datasets = {
    latest: async (name: string) => (name === dataset.name ? dataset : undefined),
    version: async () => undefined,
  };
  const ingest = new IngestRecordBatchService(
    datasets as unknown as DatasetStore,
    new RecordValidators(),
    accepted as unknown as AcceptedRecords,
    { publish } as unknown as EventProducer,
    new QualityTracker(new Registry()),
    config,
  );
  return { ingest, accepted };
}

const body = (records: unknown[]) => ({ tooLarge: false as const, text: JSON.stringify(records) });
const batch = (records: unknown[]) => ({
  dataset: 'customers',
  version: undefined,
  contentType: 'application/json',
  body: body(records),
});
const record = (id: string) => ({
  recordId: id,
  record: { id, at: '2025-11-20T08:00:00Z', email: `${id}@example.com` },
});

describe('ingesting over HTTP when Kafka fails', () => {
  before(() => Logger.overrideLogger(false));

  test('a broker error answers unavailable, says nothing was accepted, and remembers no record id', async () => {
    const { ingest, accepted } = service(async () => {
      throw new Error('Connection error: connect ECONNREFUSED 127.0.0.1:19092');
    });
    const outcome = await ingest.ingest(batch([record('r-1'), record('r-2')]));
    assert.ok(!outcome.ok && outcome.error.kind === 'kafka_unavailable');
    assert.match(outcome.error.message, /nothing of this request may be considered accepted/);
    assert.match(outcome.error.message, /ECONNREFUSED/);
    assert.deepEqual(accepted.marked, []);
  });

  test('no acknowledgement within the timeout answers unavailable too', async () => {
    const { ingest, accepted } = service(() => new Promise<void>(() => undefined));
    const started = Date.now();
    const outcome = await ingest.ingest(batch([record('r-1')]));
    assert.ok(!outcome.ok && outcome.error.kind === 'kafka_unavailable');
    assert.match(outcome.error.message, /no acknowledgement within 200 ms/);
    assert.ok(Date.now() - started < 2_000);
    assert.deepEqual(accepted.marked, []);
  });

  test('when Kafka acknowledges, the accepted record ids are remembered and the events carry no clear sensitive value', async () => {
    const sent: CloudEvent[] = [];
    const { ingest, accepted } = service(async (event) => void sent.push(event));
    const outcome = await ingest.ingest(batch([record('r-1'), { recordId: 'r-2', record: { id: 'r-2' } }]));
    assert.ok(outcome.ok);
    assert.deepEqual(accepted.marked, ['r-1'], 'only the accepted record is remembered');
    assert.deepEqual(
      sent.map((e) => e.type),
      ['mlops.data.validated.v1', 'mlops.data.rejected.v1'],
    );
    assert.doesNotMatch(JSON.stringify(sent.map((e) => e.data)), /@example\.com/);
  });

  test('records of a dataset with hashed fields are refused when the hash key is missing', async () => {
    const { ingest } = service(async () => undefined, { INGESTION_HASH_KEY: '' });
    const outcome = await ingest.ingest(batch([record('r-1')]));
    assert.ok(!outcome.ok && outcome.error.kind === 'hash_key_missing');
  });
});

describe('ingesting over HTTP: what the batch use case refuses or answers', () => {
  before(() => Logger.overrideLogger(false));

  test('an event too large for Kafka fails only its own record, which is not remembered as accepted', async () => {
    const { ingest, accepted } = service(async (event) => {
      if ((event.data as { recordId?: string }).recordId === 'r-big')
        throw new EventTooLargeError(2_000_000, 1_000_000, event.type);
    });
    const outcome = await ingest.ingest(batch([record('r-big'), record('r-ok')]));
    assert.ok(outcome.ok);
    assert.deepEqual(
      outcome.value.results.map((r) => [r.recordId, r.status, r.errors?.map((e) => e.kind) ?? []]),
      [
        ['r-big', 'rejected', ['too_large']],
        ['r-ok', 'accepted', []],
      ],
    );
    assert.deepEqual([outcome.value.accepted, outcome.value.rejected], [1, 1]);
    assert.deepEqual(accepted.marked, ['r-ok']);
  });

  test('a body over the size limit is refused by its limit, before anything is parsed or sent', async () => {
    const sent: CloudEvent[] = [];
    const { ingest } = service(async (event) => void sent.push(event), { INGESTION_MAX_BODY_BYTES: '2048' });
    const outcome = await ingest.ingest({
      dataset: 'customers',
      version: undefined,
      contentType: 'application/json',
      body: { tooLarge: true, bytes: 5_000 },
    });
    assert.ok(!outcome.ok);
    assert.deepEqual(
      [outcome.error.kind, outcome.error.message],
      ['body_too_large', 'the body is larger than the 2048 bytes allowed per request; split it'],
    );
    assert.deepEqual(sent, []);
  });

  test('records of an unknown dataset are refused whole, saying how to register it', async () => {
    const { ingest } = service(async () => undefined);
    const outcome = await ingest.ingest({ ...batch([record('r-1')]), dataset: 'orders' });
    assert.ok(!outcome.ok);
    assert.deepEqual(
      [outcome.error.kind, outcome.error.message],
      ['unknown_dataset', 'dataset "orders" is not registered; register it with PUT /datasets/orders'],
    );
  });
});
