import { type DynamicModule, Module } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { PlatformModule } from '@mlops/platform';
import { POSTGRES } from '@mlops/storage';
import type { IngestionConfig } from './config';
import { GetDatasetHttpController } from './datasets/get-dataset/get-dataset.http.controller';
import { GetDatasetService } from './datasets/get-dataset/get-dataset.service';
import { RegisterDatasetHttpController } from './datasets/register-dataset/register-dataset.http.controller';
import { RegisterDatasetService } from './datasets/register-dataset/register-dataset.service';
import { AcceptedRecords } from './infrastructure/accepted-records';
import { DatasetStore } from './infrastructure/dataset-store';
import { ingestionMigrations } from './infrastructure/migrations';
import { RecordValidators } from './infrastructure/record-validators';
import { IngestionLifecycle } from './ingestion.lifecycle';
import { QualityTracker } from './quality/quality-tracker';
import { ReportQualityService } from './quality/report-quality/report-quality.service';
import { IngestRecordsHttpController } from './records/ingest-records/ingest-records.http.controller';
import { IngestRecordsMessageController } from './records/ingest-records/ingest-records.message.controller';
import { IngestRecordBatchService } from './records/ingest-records/ingest-record-batch.service';
import { IngestRecordEventService } from './records/ingest-records/ingest-record-event.service';
import { RecordDeadLetterRedaction } from './records/ingest-records/record-dead-letters';
import { SubscriptionStore } from './infrastructure/subscription-store';
import { IngestTopicMessageService } from './subscriptions/consume-topic/ingest-topic-message.service';
import { ListSubscriptionsHttpController } from './subscriptions/list-subscriptions/list-subscriptions.http.controller';
import { ListSubscriptionsService } from './subscriptions/list-subscriptions/list-subscriptions.service';
import { SubscribeTopicHttpController } from './subscriptions/subscribe-topic/subscribe-topic.http.controller';
import { SubscribeTopicService } from './subscriptions/subscribe-topic/subscribe-topic.service';
import { TopicDeadLetters } from './subscriptions/consume-topic/topic-dead-letters';
import { TopicConsumers } from './subscriptions/topic-consumers';
import { UnsubscribeTopicHttpController } from './subscriptions/unsubscribe-topic/unsubscribe-topic.http.controller';
import { UnsubscribeTopicService } from './subscriptions/unsubscribe-topic/unsubscribe-topic.service';
import { INGESTION_CONFIG, PG_SCHEMA, SERVICE } from './tokens';

export { PG_SCHEMA, SERVICE } from './tokens';

/** Topic subscriptions: plain JSON and Debezium topics owned by upstream teams. */
const subscriptionProviders = [
  { provide: SubscriptionStore, inject: [POSTGRES], useFactory: (ds: DataSource) => new SubscriptionStore(ds) },
  IngestTopicMessageService,
  TopicDeadLetters,
  TopicConsumers,
  SubscribeTopicService,
  UnsubscribeTopicService,
  ListSubscriptionsService,
];

@Module({})
export class AppModule {
  static forRoot(config: IngestionConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({ service: SERVICE, pgSchema: PG_SCHEMA, config, migrations: ingestionMigrations }),
      ],
      controllers: [
        RegisterDatasetHttpController,
        GetDatasetHttpController,
        IngestRecordsHttpController,
        IngestRecordsMessageController,
        SubscribeTopicHttpController,
        UnsubscribeTopicHttpController,
        ListSubscriptionsHttpController,
      ],
      providers: [
        { provide: INGESTION_CONFIG, useValue: config },
        {
          provide: DatasetStore,
          inject: [POSTGRES],
          useFactory: (dataSource: DataSource) => new DatasetStore(dataSource),
        },
        {
          provide: AcceptedRecords,
          inject: [POSTGRES],
          useFactory: (dataSource: DataSource) => new AcceptedRecords(dataSource, PG_SCHEMA),
        },
        { provide: RecordValidators, useValue: new RecordValidators() },
        QualityTracker,
        RecordDeadLetterRedaction,
        RegisterDatasetService,
        GetDatasetService,
        IngestRecordBatchService,
        IngestRecordEventService,
        ReportQualityService,
        IngestionLifecycle,
        ...subscriptionProviders,
      ],
    };
  }
}
