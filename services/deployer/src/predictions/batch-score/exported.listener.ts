import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { EventTypes } from '@mlops/contracts';
import { KAFKA } from '@mlops/messaging';
import type { DeployerConfig } from '../../config';
import { TopicReplayer } from '../../infrastructure/topic-replayer';
import { DEPLOYER_CONFIG, INSTANCE_ID } from '../../tokens';
import { BatchScoreService } from './batch-score.service';

const EXPORTED = EventTypes.FeaturesExportedV1;

/**
 * The feature store's answers to the exports batch scoring asked for. Jobs live in the memory of the replica that
 * started them, so every replica reads every answer (a group of its own, from its start) and acts on its own jobs.
 */
@Injectable()
export class ExportedListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('batch-exports');
  private readonly replayer: TopicReplayer<typeof EXPORTED>;

  constructor(
    jobs: BatchScoreService,
    @Inject(KAFKA) kafka: Kafka,
    @Inject(DEPLOYER_CONFIG) config: DeployerConfig,
    @Inject(INSTANCE_ID) instanceId: string,
  ) {
    this.replayer = new TopicReplayer({
      kafka,
      topic: EXPORTED,
      groupId: `${config.CONSUMER_GROUP ?? 'deployer'}-exports-${instanceId}`,
      // No job of this process is older than it: earlier answers are someone else's.
      sinceMs: Date.now(),
      maxEventBytes: config.MAX_EVENT_BYTES,
      onEvent: (event) => jobs.onExported(event.data),
      logger: this.logger,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.replayer.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.replayer.stop();
  }
}
