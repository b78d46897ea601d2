import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { EventTypes } from '@mlops/contracts';
import { type CloudEvent, KAFKA } from '@mlops/messaging';
import type { DeployerConfig } from '../../config';
import { TopicReplayer } from '../../infrastructure/topic-replayer';
import { DEPLOYER_CONFIG, INSTANCE_ID } from '../../tokens';
import { DeployModelService } from './deploy-model.service';

const PROMOTED = EventTypes.ModelPromotedV1;
type Promoted = CloudEvent<typeof PROMOTED>;

/**
 * Every replica reads the whole compacted promoted topic in a consumer group of its own: while replaying it keeps
 * the latest promotion per model/alias and deploys those once caught up (what should serve now, with no manual
 * step after a restart); afterwards it deploys each promotion as it arrives.
 */
@Injectable()
export class PromotedListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('promotions');
  private readonly replayer: TopicReplayer<typeof PROMOTED>;
  private readonly pending = new Map<string, Promoted>();
  private replaying = true;
  private loadedFlag = false;
  /** Resolves once the promotions of the history are deployed (or failed). */
  readonly loaded: Promise<void>;

  constructor(
    private readonly deployments: DeployModelService,
    @Inject(KAFKA) kafka: Kafka,
    @Inject(DEPLOYER_CONFIG) config: DeployerConfig,
    @Inject(INSTANCE_ID) instanceId: string,
  ) {
    this.replayer = new TopicReplayer({
      kafka,
      topic: PROMOTED,
      groupId: `${config.CONSUMER_GROUP ?? 'deployer'}-promoted-${instanceId}`,
      sinceMs: config.REPLAY_SINCE ? Date.parse(config.REPLAY_SINCE) : undefined,
      maxEventBytes: config.MAX_EVENT_BYTES,
      onEvent: (event) => this.onPromoted(event),
      logger: this.logger,
    });
    this.loaded = this.replayer.caughtUp.then(() => this.deployHistory());
  }

  get isLoaded(): boolean {
    return this.loadedFlag;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.replayer.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.replayer.stop();
  }

  private async onPromoted(event: Promoted): Promise<void> {
    if (this.replaying) {
      this.pending.set(`${event.data.model}/${event.data.alias}`, event);
      return;
    }
    await this.deployments.deploy(event);
  }

  private async deployHistory(): Promise<void> {
    this.replaying = false;
    const latest = [...this.pending.values()];
    this.pending.clear();
    this.logger.log(`deploying ${latest.length} promoted alias(es) from the history`);
    await Promise.all(latest.map((event) => this.deployments.deploy(event)));
    this.loadedFlag = true;
  }
}
