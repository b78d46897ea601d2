import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { EventTypes } from '@mlops/contracts';
import { CloudEventsKafkaServer } from '@mlops/messaging';
import { redactRecordDeadLetter } from '../../domain/dead-letter-redaction';
import { DatasetStore } from '../../infrastructure/dataset-store';
import type { IngestionConfig } from '../../config';
import { INGESTION_CONFIG } from '../../tokens';
import { recordHasher } from './record-events';

/**
 * Dead letters of mlops.data.record.v1 keep sensitive fields hashed or dropped, like every other topic: those of
 * the record consumer, and those of topic subscriptions (which dead-letter the record event a message became).
 */
@Injectable()
export class RecordDeadLetterRedaction implements OnModuleInit {
  private readonly hash: ReturnType<typeof recordHasher>;

  constructor(
    private readonly server: CloudEventsKafkaServer,
    private readonly datasets: DatasetStore,
    @Inject(INGESTION_CONFIG) config: IngestionConfig,
  ) {
    this.hash = recordHasher(config.INGESTION_HASH_KEY);
  }

  onModuleInit(): void {
    this.server.redactDeadLettersOf(EventTypes.DataRecordV1, (value) => this.redact(value));
  }

  /** The value of a mlops.data.record.v1 dead letter as it may be kept. */
  redact(value: Buffer): Promise<Buffer> {
    return redactRecordDeadLetter(
      value,
      async (name, version) =>
        (version === undefined ? await this.datasets.latest(name) : await this.datasets.version(name, version))
          ?.sensitiveFields,
      this.hash,
    );
  }
}
