import { randomUUID } from 'node:crypto';
import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Registry } from 'prom-client';
import { artifactStoreOf } from '@mlops/artifacts';
import { kafkaSecurity } from '@mlops/config';
import { EventTypes } from '@mlops/contracts';
import { EventProducer, MessagingMetrics } from '@mlops/messaging';
import { METRICS_REGISTRY } from '@mlops/observability';
import { PlatformModule } from '@mlops/platform';
import type { DeployerConfig } from './config';
import { CanaryGuardService } from './deployments/roll-back-canary/canary-guard.service';
import { CanaryRollbackListener } from './deployments/roll-back-canary/canary-rollback.listener';
import { DeployModelService } from './deployments/deploy-model/deploy-model.service';
import { PromotedListener } from './deployments/deploy-model/promoted.listener';
import { OnlineFeatures } from './domain/online-features';
import { MaterializedListener } from './features/cache-features/materialized.listener';
import { deployerMigrations } from './infrastructure/migrations';
import { PredictionLog } from './infrastructure/prediction-log';
import { WorkerSender, producerSender } from './infrastructure/prediction-log-sender';
import { ServingMetrics } from './infrastructure/serving-metrics';
import { ServingTable } from './infrastructure/serving-table';
import { SnapshotScorer } from './infrastructure/snapshot-scorer';
import { GetBundleHttpController } from './models/get-bundle/get-bundle.http.controller';
import { ListModelsHttpController } from './models/list-models/list-models.http.controller';
import { BatchScoreHttpController } from './predictions/batch-score/batch-score.http.controller';
import { BatchScoreService } from './predictions/batch-score/batch-score.service';
import { ExportedListener } from './predictions/batch-score/exported.listener';
import { InferV2HttpController } from './predictions/infer-v2/infer-v2.http.controller';
import { PredictHttpController } from './predictions/predict/predict.http.controller';
import { PredictService } from './predictions/predict/predict.service';
import { PredictionRequestedMessageController } from './predictions/score-stream/prediction-requested.message.controller';
import { ScoreStreamService } from './predictions/score-stream/score-stream.service';
import { ServingReadiness } from './readiness/serving-readiness';
import { ARTIFACT_STORE, DEPLOYER_CONFIG, INSTANCE_ID, ONLINE_FEATURES, PG_SCHEMA, SERVICE, SOURCE } from './tokens';

export { PG_SCHEMA, SERVICE } from './tokens';

/** Starts the prediction log with the app and sends what it holds before the producer disconnects. */
@Injectable()
class PredictionLogLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(private readonly log: PredictionLog) {}

  onApplicationBootstrap(): void {
    this.log.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.log.drain();
  }
}

@Module({})
export class AppModule {
  static forRoot(config: DeployerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({ service: SERVICE, pgSchema: PG_SCHEMA, config, migrations: deployerMigrations }),
      ],
      controllers: [
        PredictHttpController,
        InferV2HttpController,
        GetBundleHttpController,
        ListModelsHttpController,
        BatchScoreHttpController,
        PredictionRequestedMessageController,
      ],
      providers: [
        { provide: DEPLOYER_CONFIG, useValue: config },
        { provide: INSTANCE_ID, useValue: config.INSTANCE_ID ?? `deployer-${randomUUID().slice(0, 8)}` },
        // Built at start: a bad URL or missing S3 credentials stop the service before it consumes anything.
        { provide: ARTIFACT_STORE, useFactory: () => artifactStoreOf(config) },
        { provide: ONLINE_FEATURES, useFactory: () => new OnlineFeatures() },
        { provide: ServingTable, useFactory: () => new ServingTable() },
        { provide: SnapshotScorer, useFactory: () => new SnapshotScorer() },
        {
          provide: ServingMetrics,
          inject: [METRICS_REGISTRY],
          useFactory: (registry: Registry) => new ServingMetrics(registry),
        },
        {
          provide: PredictionLog,
          inject: [EventProducer, MessagingMetrics, ServingMetrics, INSTANCE_ID],
          useFactory: (
            producer: EventProducer,
            messaging: MessagingMetrics,
            metrics: ServingMetrics,
            instanceId: string,
          ) =>
            new PredictionLog(
              config.PREDICTION_LOG_WORKER
                ? new WorkerSender({
                    clientId: `${SERVICE}-prediction-log`,
                    brokers: config.KAFKA_BROKERS,
                    security: kafkaSecurity(config, SERVICE),
                    maxEventBytes: config.MAX_EVENT_BYTES,
                    source: SOURCE,
                    contentMode: config.PREDICTION_LOG_CONTENT_MODE,
                    onProduced: (count) => messaging.produced.inc({ topic: EventTypes.PredictionLoggedV1 }, count),
                  })
                : producerSender(producer, SOURCE),
              metrics,
              {
                enabled: config.PREDICTION_LOG,
                capacity: config.PREDICTION_LOG_BUFFER,
                batchSize: config.PREDICTION_LOG_BATCH,
                flushMs: config.PREDICTION_LOG_FLUSH_MS,
                instanceId,
              },
              new Logger('prediction-log'),
            ),
        },
        PredictionLogLifecycle,
        DeployModelService,
        CanaryGuardService,
        CanaryRollbackListener,
        PromotedListener,
        MaterializedListener,
        ServingReadiness,
        PredictService,
        ScoreStreamService,
        BatchScoreService,
        ExportedListener,
      ],
    };
  }
}
