import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { EventProducer, MessagingMetrics, OutboxRelay } from '@mlops/messaging';
import { POSTGRES } from '@mlops/storage';
import { OfflineFeatureStore } from './offline';
import { PG_SCHEMA } from './tokens';

/**
 * The service's background work: the offline tables exist before the first event is consumed (init hooks run
 * before the event transport listens), the outbox relay runs while the app does.
 */
@Injectable()
export class FeatureStoreLifecycle implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('feature-store');
  readonly relay: OutboxRelay;
  private tables?: Promise<void>;
  private relayStarted = false;

  constructor(
    @Inject(POSTGRES) dataSource: DataSource,
    producer: EventProducer,
    metrics: MessagingMetrics,
    @Inject(OfflineFeatureStore) private readonly offline: OfflineFeatureStore,
  ) {
    this.relay = new OutboxRelay({ dataSource, schema: PG_SCHEMA, producer, metrics, logger: this.logger });
  }

  // The event transport and the HTTP app both run the lifecycle hooks: each step happens once.
  onModuleInit(): Promise<void> {
    this.tables ??= this.offline.createTables();
    return this.tables;
  }

  onApplicationBootstrap(): void {
    if (this.relayStarted) return;
    this.relayStarted = true;
    this.relay.start();
  }

  /** The relay sends what is pending before the producer and Postgres close. */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.relayStarted) return;
    this.relayStarted = false;
    await this.relay.stop();
    await this.relay.publishPending().catch((error: unknown) => this.logger.warn(`outbox left for the next start: ${(error as Error).message}`));
  }
}
