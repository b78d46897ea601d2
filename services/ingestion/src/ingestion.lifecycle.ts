import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { EventProducer, MessagingMetrics, OutboxRelay } from '@mlops/messaging';
import { POSTGRES } from '@mlops/storage';
import { AcceptedRecords } from './infrastructure/accepted-records';
import { ReportQualityService } from './quality/report-quality/report-quality.service';
import type { IngestionConfig } from './config';
import { INGESTION_CONFIG, PG_SCHEMA } from './tokens';

const PRUNE_EVERY_MS = 10 * 60_000;

/** The service's background work: the outbox relay, the quality window timer, pruning of record ids. */
@Injectable()
export class IngestionLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ingestion');
  readonly relay: OutboxRelay;
  private qualityTimer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;

  constructor(
    @Inject(POSTGRES) dataSource: DataSource,
    producer: EventProducer,
    metrics: MessagingMetrics,
    private readonly reportQuality: ReportQualityService,
    private readonly acceptedRecords: AcceptedRecords,
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
  ) {
    this.relay = new OutboxRelay({ dataSource, schema: PG_SCHEMA, producer, metrics, logger: this.logger });
  }

  onApplicationBootstrap(): void {
    if (this.qualityTimer) return; // the event transport and the HTTP app may both run the bootstrap hooks
    if (this.config.INGESTION_HASH_KEY === undefined) this.logger.warn('INGESTION_HASH_KEY is not set: datasets with hashed fields are refused');
    this.relay.start();
    this.qualityTimer = setInterval(() => void this.flushQuality(), this.config.INGESTION_QUALITY_INTERVAL_MS);
    this.pruneTimer = setInterval(() => void this.prune(), PRUNE_EVERY_MS);
    this.qualityTimer.unref();
    this.pruneTimer.unref();
    void this.prune();
  }

  /** Last window out, then the relay sends what is pending before the producer and Postgres close. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.qualityTimer);
    clearInterval(this.pruneTimer);
    await this.flushQuality();
    await this.relay.stop();
    await this.relay.publishPending().catch((error: unknown) => this.logger.warn(`outbox left for the next start: ${(error as Error).message}`));
  }

  private async flushQuality(): Promise<void> {
    try {
      await this.reportQuality.flush();
    } catch (error) {
      this.logger.error(`quality window not reported: ${(error as Error).message}`);
    }
  }

  private async prune(): Promise<void> {
    try {
      await this.acceptedRecords.prune(this.config.INGESTION_RECORD_ID_RETENTION_HOURS * 3_600_000, this.config.INGESTION_RECORD_ID_MAX_ROWS);
    } catch (error) {
      this.logger.warn(`accepted record ids not pruned: ${(error as Error).message}`);
    }
  }
}
