import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { CloudEventsKafkaServer, OutboxRelay } from '@mlops/messaging';

/**
 * Runs the outbox relay while the app runs. At shutdown the consumer stops first (destroy hooks run before
 * any shutdown hook), then the services' own beforeApplicationShutdown hooks (their module is nearer the root),
 * then the relay sends what is pending, before the producer and Postgres close (onApplicationShutdown).
 */
@Injectable()
export class PlatformLifecycle implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('platform');

  constructor(
    private readonly relay: OutboxRelay,
    private readonly events: CloudEventsKafkaServer,
  ) {}

  onApplicationBootstrap(): void {
    this.relay.start();
  }

  /** No event is handled after this, so no outbox row is written after the relay's last pass. */
  async onModuleDestroy(): Promise<void> {
    await this.events.close();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.relay.stop();
    await this.relay
      .drain()
      .catch((error: unknown) => this.logger.warn(`outbox left for the next start: ${(error as Error).message}`));
  }
}
