import { type DynamicModule, Module } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { artifactStoreOf } from '@mlops/artifacts';
import { PlatformModule } from '@mlops/platform';
import { POSTGRES } from '@mlops/storage';
import type { TrainerConfig } from './config';
import { ModelPromotedMessageController } from './champions/track-champion/model-promoted.message.controller';
import { TrackChampionService } from './champions/track-champion/track-champion.service';
import { ChampionStore } from './infrastructure/champion-store';
import { trainerMigrations } from './infrastructure/migrations';
import { RunStore } from './infrastructure/run-store';
import { TrackingStore } from './infrastructure/tracking-store';
import { TrainingMetrics } from './infrastructure/training-metrics';
import { TrainingRunner } from './infrastructure/training-runner';
import { GetTrainingRunHttpController } from './training-runs/get-training-run/get-training-run.http.controller';
import { RequestTrainingHttpController } from './training-runs/request-training/request-training.http.controller';
import { RequestTrainingService } from './training-runs/request-training/request-training.service';
import { StartTrainingService } from './training-runs/start-training/start-training.service';
import { TrainingRequestedMessageController } from './training-runs/start-training/training-requested.message.controller';
import { SnapshotCreatedMessageController } from './training-runs/train-on-snapshot/snapshot-created.message.controller';
import { BrowseRunsHttpController } from './tracking/browse-runs/browse-runs.http.controller';
import { MlflowArtifactsHttpController } from './tracking/mlflow/mlflow-artifacts.http.controller';
import { MlflowExperimentsHttpController } from './tracking/mlflow/mlflow-experiments.http.controller';
import { MlflowRunsHttpController } from './tracking/mlflow/mlflow-runs.http.controller';
import { TrackingService } from './tracking/tracking.service';
import { TrainingTracking } from './tracking/training-tracking';
import { TrainOnSnapshotService } from './training-runs/train-on-snapshot/train-on-snapshot.service';
import { ARTIFACT_STORE, PG_SCHEMA, SERVICE, TRAINER_CONFIG } from './tokens';

export { PG_SCHEMA, SERVICE } from './tokens';

@Module({})
export class AppModule {
  static forRoot(config: TrainerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({
          service: SERVICE,
          pgSchema: PG_SCHEMA,
          config,
          migrations: trainerMigrations,
        }),
      ],
      controllers: [
        RequestTrainingHttpController,
        GetTrainingRunHttpController,
        TrainingRequestedMessageController,
        SnapshotCreatedMessageController,
        ModelPromotedMessageController,
        MlflowExperimentsHttpController,
        MlflowRunsHttpController,
        MlflowArtifactsHttpController,
        BrowseRunsHttpController,
      ],
      providers: [
        { provide: TRAINER_CONFIG, useValue: config },
        // Built at start: a bad URL or missing S3 credentials stop the service before it consumes anything.
        { provide: ARTIFACT_STORE, useFactory: () => artifactStoreOf(config) },
        { provide: RunStore, inject: [POSTGRES], useFactory: (dataSource: DataSource) => new RunStore(dataSource) },
        {
          provide: TrackingStore,
          inject: [POSTGRES],
          useFactory: (dataSource: DataSource) => new TrackingStore(dataSource),
        },
        {
          provide: ChampionStore,
          inject: [POSTGRES],
          useFactory: (dataSource: DataSource) => new ChampionStore(dataSource),
        },
        TrackChampionService,
        TrackingService,
        TrainingTracking,
        TrainingMetrics,
        { provide: TrainingRunner, useFactory: () => new TrainingRunner() },
        RequestTrainingService,
        StartTrainingService,
        TrainOnSnapshotService,
      ],
    };
  }
}
