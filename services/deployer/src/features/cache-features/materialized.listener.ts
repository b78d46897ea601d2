import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { EventTypes } from '@mlops/contracts';
import { KAFKA } from '@mlops/messaging';
import type { DeployerConfig } from '../../config';
import type { OnlineFeatures } from '../../domain/online-features';
import { ServingMetrics } from '../../infrastructure/serving-metrics';
import { TopicReplayer } from '../../infrastructure/topic-replayer';
import { DEPLOYER_CONFIG, INSTANCE_ID, ONLINE_FEATURES } from '../../tokens';

const MATERIALIZED = EventTypes.FeaturesMaterializedV1;

/**
 * The online cache: every replica reads the compacted materialized topic from its beginning and keeps the latest
 * vector per entity and feature view in memory, so a prediction joins features without touching the network.
 */
@Injectable()
export class MaterializedListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('online-features');
  private readonly replayer: TopicReplayer<typeof MATERIALIZED>;

  constructor(
    @Inject(ONLINE_FEATURES) private readonly features: OnlineFeatures,
    private readonly metrics: ServingMetrics,
    @Inject(KAFKA) kafka: Kafka,
    @Inject(DEPLOYER_CONFIG) config: DeployerConfig,
    @Inject(INSTANCE_ID) instanceId: string,
  ) {
    this.replayer = new TopicReplayer({
      kafka,
      topic: MATERIALIZED,
      groupId: `${config.CONSUMER_GROUP ?? 'deployer'}-features-${instanceId}`,
      sinceMs: config.REPLAY_SINCE ? Date.parse(config.REPLAY_SINCE) : undefined,
      maxEventBytes: config.MAX_EVENT_BYTES,
      onEvent: (event) => {
        const { featureView, entityId, features, eventTime } = event.data;
        this.features.put(featureView, entityId, features, eventTime);
      },
      logger: this.logger,
    });
    this.metrics.onlineSizes = () => this.features.sizes();
  }

  get caughtUp(): Promise<void> {
    return this.replayer.caughtUp;
  }

  get isCaughtUp(): boolean {
    return this.replayer.isCaughtUp;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.replayer.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.replayer.stop();
  }
}
