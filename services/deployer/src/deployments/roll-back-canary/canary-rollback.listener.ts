import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { EventTypes } from '@mlops/contracts';
import { type CloudEvent, KAFKA } from '@mlops/messaging';
import type { DeployerConfig } from '../../config';
import { TopicReplayer } from '../../infrastructure/topic-replayer';
import { DEPLOYER_CONFIG, INSTANCE_ID } from '../../tokens';
import { CanaryGuardService } from './canary-guard.service';

const FAILED = EventTypes.DeploymentFailedV1;

/**
 * Every replica reads the deployment failures in a consumer group of its own (from REPLAY_SINCE, or the topic's
 * beginning) and follows each canary rollback any replica announced: that promotion's canary gets no more
 * production traffic here either. Readiness waits until the history is read, so a restarted replica never routes
 * to a canary the fleet already rolled back.
 */
@Injectable()
export class CanaryRollbackListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('canary');
  private readonly replayer: TopicReplayer<typeof FAILED>;

  constructor(
    private readonly guard: CanaryGuardService,
    @Inject(KAFKA) kafka: Kafka,
    @Inject(DEPLOYER_CONFIG) config: DeployerConfig,
    @Inject(INSTANCE_ID) private readonly instanceId: string,
  ) {
    this.replayer = new TopicReplayer({
      kafka,
      topic: FAILED,
      groupId: `${config.CONSUMER_GROUP ?? 'deployer'}-rollbacks-${instanceId}`,
      sinceMs: config.REPLAY_SINCE ? Date.parse(config.REPLAY_SINCE) : undefined,
      maxEventBytes: config.MAX_EVENT_BYTES,
      onEvent: (event) => this.onFailed(event),
      logger: this.logger,
    });
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

  private onFailed(event: CloudEvent<typeof FAILED>): void {
    const { stage, model, alias, version, instanceId, promotionEventId } = event.data;
    if (stage !== 'canary_rollback') return;
    if (this.guard.follow(promotionEventId) && instanceId !== this.instanceId)
      this.logger.warn(`${model}/${alias}: canary v${version} rolled back by replica ${instanceId}; following`);
  }
}
