// knownAt: when a record was known, if before its arrival (an envelope field, or ?knownAt=event-time for an import).
import 'reflect-metadata';
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Logger } from '@nestjs/common';
import { Registry } from 'prom-client';
import { loadConfig } from '@mlops/config';
import type { CloudEvent, EventProducer } from '@mlops/messaging';
import { IngestionConfigSpec } from '../src/config';
import type { DatasetVersion } from '../src/domain/dataset';
import type { AcceptedRecords } from '../src/infrastructure/accepted-records';
import type { DatasetStore } from '../src/infrastructure/dataset-store';
import { RecordValidators } from '../src/infrastructure/record-validators';
import { QualityTracker } from '../src/quality/quality-tracker';
import { IngestRecordBatchService } from '../src/records/ingest-records/ingest-record-batch.service';

const dataset: DatasetVersion = {
  name: 'history',
  version: 1,
  role: 'features',
  recordSchema: {
    type: 'object',
    required: ['id', 'at'],
    properties: { id: { type: 'string' }, at: { type: 'string', format: 'date-time' } },
  },
  entityKeyField: 'id',
  eventTimeField: 'at',
  sensitiveFields: {},
  registeredAt: new Date(0),
};

const NOW = new Date('2025-11-20T12:00:00.000Z');

async function ingest(records: unknown[], knownAt?: 'event-time') {
  const sent: CloudEvent[] = [];
  const config = loadConfig('ingestion', IngestionConfigSpec, { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
  const service = new IngestRecordBatchService(
    { latest: async () => dataset, version: async () => undefined } as unknown as DatasetStore,
    new RecordValidators(),
    {
      alreadyAccepted: async () => new Set<string>(),
      markAccepted: async () => new Set<string>(),
    } as unknown as AcceptedRecords,
    { publish: async (event: CloudEvent) => void sent.push(event) } as unknown as EventProducer,
    new QualityTracker(new Registry()),
    config,
  );
  const answer = await service.ingest(
    {
      dataset: 'history',
      version: undefined,
      contentType: 'application/json',
      body: { tooLarge: false, text: JSON.stringify(records) },
      ...(knownAt !== undefined ? { knownAt } : {}),
    },
    NOW,
  );
  assert.ok(answer.ok);
  return { answer: answer.value, knownAts: sent.map((event) => (event.data as { knownAt?: string }).knownAt) };
}

describe('knownAt of records over HTTP', () => {
  before(() => Logger.overrideLogger(false));

  test('an envelope knownAt before now is carried by the validated event; without one there is none', async () => {
    const { knownAts } = await ingest([
      { knownAt: '2025-11-01T00:00:00+01:00', record: { id: 'a', at: '2025-10-31T00:00:00Z' } },
      { id: 'b', at: '2025-10-31T00:00:00Z' },
    ]);
    assert.deepEqual(knownAts, ['2025-10-31T23:00:00.000Z', undefined]);
  });

  test('a knownAt after now is dropped: a record is never known later than its arrival', async () => {
    const { knownAts } = await ingest([
      { knownAt: '2025-11-21T00:00:00Z', record: { id: 'a', at: '2025-11-01T00:00:00Z' } },
    ]);
    assert.deepEqual(knownAts, [undefined]);
  });

  test('?knownAt=event-time: each record is known at its event time (a future one at its arrival)', async () => {
    const { knownAts } = await ingest(
      [
        { id: 'a', at: '2025-01-01T00:00:00Z' },
        { id: 'b', at: '2025-12-01T00:00:00Z' },
        { knownAt: '2025-02-01T00:00:00Z', record: { id: 'c', at: '2025-01-15T00:00:00Z' } },
      ],
      'event-time',
    );
    assert.deepEqual(knownAts, ['2025-01-01T00:00:00.000Z', undefined, '2025-02-01T00:00:00.000Z']);
  });

  test('a knownAt that is not an RFC 3339 time fails its record alone', async () => {
    const { answer } = await ingest([
      { knownAt: 'yesterday', record: { id: 'a', at: '2025-11-01T00:00:00Z' } },
      { id: 'b', at: '2025-11-01T00:00:00Z' },
    ]);
    assert.equal(answer.accepted, 1);
    assert.match(answer.results[0]?.errors?.[0]?.message ?? '', /knownAt must be an RFC 3339/);
  });
});
