import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { AcceptedRecords } from './infrastructure/accepted-records';
import { ReportQualityService } from './quality/report-quality/report-quality.service';
import type { IngestionConfig } from './config';
import { INGESTION_CONFIG } from './tokens';

const PRUNE_EVERY_MS = 10 * 60_000;

/**
 * The service's background work: the quality window timer and pruning of record ids. The platform runs the outbox
 * relay, and drains it after this class's shutdown hook, so the last quality window still leaves.
 */
@Injectable()
export class IngestionLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ingestion');
  private qualityTimer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;

  constructor(
    private readonly reportQuality: ReportQualityService,
    private readonly acceptedRecords: AcceptedRecords,
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.INGESTION_HASH_KEY === undefined)
      this.logger.warn('INGESTION_HASH_KEY is not set: datasets with hashed fields are refused');
    this.qualityTimer = setInterval(() => void this.flushQuality(), this.config.INGESTION_QUALITY_INTERVAL_MS);
    this.pruneTimer = setInterval(() => void this.prune(), PRUNE_EVERY_MS);
    this.qualityTimer.unref();
    this.pruneTimer.unref();
    void this.prune();
  }

  /** Last window into the outbox; the platform's relay sends it before the producer and Postgres close. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.qualityTimer);
    clearInterval(this.pruneTimer);
    await this.flushQuality();
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
      await this.acceptedRecords.prune(
        this.config.INGESTION_RECORD_ID_RETENTION_HOURS * 3_600_000,
        this.config.INGESTION_RECORD_ID_MAX_ROWS,
      );
    } catch (error) {
      this.logger.warn(`accepted record ids not pruned: ${(error as Error).message}`);
    }
  }
}
