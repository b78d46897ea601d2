import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { EventTypes } from '@mlops/contracts';
import { CloudEventsKafkaServer } from '@mlops/messaging';
import { redactRecordDeadLetter } from '../../domain/dead-letter-redaction';
import { DatasetStore } from '../../infrastructure/dataset-store';
import type { IngestionConfig } from '../../config';
import { INGESTION_CONFIG } from '../../tokens';
import { recordHasher } from './record-events';

/** Dead letters of mlops.data.record.v1 keep sensitive fields hashed or dropped, like every other topic. */
@Injectable()
export class RecordDeadLetterRedaction implements OnModuleInit {
  constructor(
    private readonly server: CloudEventsKafkaServer,
    private readonly datasets: DatasetStore,
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
  ) {}

  onModuleInit(): void {
    const hash = recordHasher(this.config.INGESTION_HASH_KEY);
    this.server.redactDeadLettersOf(EventTypes.DataRecordV1, (value) =>
      redactRecordDeadLetter(
        value,
        async (name, version) =>
          (version === undefined ? await this.datasets.latest(name) : await this.datasets.version(name, version))
            ?.sensitiveFields,
        hash,
      ),
    );
  }
}
