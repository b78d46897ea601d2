import { type DynamicModule, Module } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { type ArtifactStore, artifactStoreOf } from '@mlops/artifacts';
import { KAFKA } from '@mlops/messaging';
import { PlatformModule } from '@mlops/platform';
import { CLICKHOUSE, type ClickHouseClient, POSTGRES } from '@mlops/storage';
import type { FeatureStoreConfig } from './config';
import { ExportRangeService } from './exports/export-range/export-range.service';
import { ExportRequestedMessageController } from './exports/export-range/export-requested.message.controller';
import { DatasetRegisteredMessageController } from './datasets/track-dataset/dataset-registered.message.controller';
import { RegistrationsLag } from './datasets/track-dataset/registrations-lag';
import { CreateFeatureViewHttpController } from './feature-views/create-feature-view/create-feature-view.http.controller';
import { CreateFeatureViewService } from './feature-views/create-feature-view/create-feature-view.service';
import { GetFeatureViewHttpController } from './feature-views/get-feature-view/get-feature-view.http.controller';
import { GetOnlineFeaturesHttpController } from './feature-views/get-online-features/get-online-features.http.controller';
import { FeatureStoreLifecycle } from './feature-store.lifecycle';
import { MaterializeFeaturesService } from './features/materialize-features/materialize-features.service';
import { ValidatedRecordsMessageController } from './features/materialize-features/validated.message.controller';
import { CatalogStore } from './infrastructure/catalog-store';
import { featureStoreMigrations } from './infrastructure/migrations';
import { WriteBehind } from './infrastructure/write-behind';
import { BackfillFeatureViewService } from './feature-views/backfill-feature-view/backfill-feature-view.service';
import { OnlineStore } from './infrastructure/online-store';
import { ExportLog } from './infrastructure/export-log';
import { SnapshotLog } from './infrastructure/snapshot-log';
import { AppendLabelService } from './labels/append-label.service';
import { OfflineFeatureStore, SnapshotBuilder, TrainingSetBuilder } from './offline';
import { RangeExporter } from './offline/range-export';
import { BuildSnapshotService } from './snapshots/build-snapshot/build-snapshot.service';
import { SnapshotRequestedMessageController } from './snapshots/build-snapshot/snapshot-requested.message.controller';
import { CreateTrainingSetHttpController } from './training-sets/create-training-set/create-training-set.http.controller';
import { CreateTrainingSetService } from './training-sets/create-training-set/create-training-set.service';
import { GetTrainingSetHttpController } from './training-sets/get-training-set/get-training-set.http.controller';
import { GetTrainingSetService } from './training-sets/get-training-set/get-training-set.service';
import { ARTIFACT_STORE, CLICKHOUSE_DATABASE, PG_SCHEMA, SERVICE } from './tokens';

export { PG_SCHEMA, SERVICE } from './tokens';

@Module({})
export class AppModule {
  static forRoot(config: FeatureStoreConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({
          service: SERVICE,
          pgSchema: PG_SCHEMA,
          config,
          clickhouseDatabase: CLICKHOUSE_DATABASE,
          migrations: featureStoreMigrations,
        }),
      ],
      controllers: [
        CreateFeatureViewHttpController,
        GetFeatureViewHttpController,
        GetOnlineFeaturesHttpController,
        DatasetRegisteredMessageController,
        ValidatedRecordsMessageController,
        SnapshotRequestedMessageController,
        ExportRequestedMessageController,
        CreateTrainingSetHttpController,
        GetTrainingSetHttpController,
      ],
      providers: [
        // Built at start: a bad URL or missing S3 credentials stop the service before it consumes anything.
        { provide: ARTIFACT_STORE, useFactory: () => artifactStoreOf(config) },
        {
          provide: CatalogStore,
          inject: [POSTGRES],
          useFactory: (dataSource: DataSource) => new CatalogStore(dataSource),
        },
        {
          provide: OnlineStore,
          inject: [POSTGRES],
          useFactory: (dataSource: DataSource) => new OnlineStore(dataSource),
        },
        {
          provide: SnapshotLog,
          inject: [POSTGRES],
          useFactory: (dataSource: DataSource) => new SnapshotLog(dataSource),
        },
        {
          provide: OfflineFeatureStore,
          inject: [CLICKHOUSE],
          useFactory: (clickhouse: ClickHouseClient) => new OfflineFeatureStore(clickhouse, CLICKHOUSE_DATABASE),
        },
        {
          provide: WriteBehind,
          inject: [POSTGRES, OnlineStore, OfflineFeatureStore],
          useFactory: (dataSource: DataSource, online: OnlineStore, offline: OfflineFeatureStore) =>
            WriteBehind.attach(dataSource, online, offline, PG_SCHEMA),
        },
        {
          provide: SnapshotBuilder,
          inject: [CLICKHOUSE, ARTIFACT_STORE],
          useFactory: (clickhouse: ClickHouseClient, artifacts: ArtifactStore) =>
            new SnapshotBuilder(clickhouse, artifacts, CLICKHOUSE_DATABASE),
        },
        {
          provide: TrainingSetBuilder,
          inject: [CLICKHOUSE, ARTIFACT_STORE],
          useFactory: (clickhouse: ClickHouseClient, artifacts: ArtifactStore) =>
            new TrainingSetBuilder(clickhouse, artifacts, CLICKHOUSE_DATABASE),
        },
        {
          provide: ExportLog,
          inject: [POSTGRES],
          useFactory: (dataSource: DataSource) => new ExportLog(dataSource),
        },
        {
          provide: RangeExporter,
          inject: [CLICKHOUSE, ARTIFACT_STORE],
          useFactory: (clickhouse: ClickHouseClient, artifacts: ArtifactStore) =>
            new RangeExporter(clickhouse, artifacts, CLICKHOUSE_DATABASE),
        },
        {
          provide: RegistrationsLag,
          inject: [KAFKA],
          useFactory: (kafka: Kafka) => new RegistrationsLag(kafka, config.CONSUMER_GROUP ?? SERVICE),
        },
        CreateFeatureViewService,
        BackfillFeatureViewService,
        MaterializeFeaturesService,
        AppendLabelService,
        BuildSnapshotService,
        ExportRangeService,
        CreateTrainingSetService,
        GetTrainingSetService,
        FeatureStoreLifecycle,
      ],
    };
  }
}
