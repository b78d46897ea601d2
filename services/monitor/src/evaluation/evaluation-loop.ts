import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { AdvisoryLockScope } from '@mlops/storage';
import { MONITOR_SETTINGS, type MonitorSettings, SERVICE } from '../tokens';
import { EvaluateModelsService } from './evaluate-models/evaluate-models.service';
import { MonitorStore } from '../infrastructure/monitor-store';

const LOCK = new AdvisoryLockScope(SERVICE, 'evaluation');

/** Runs an evaluation pass every interval; replicas take turns through an advisory lock (one pass at a time). */
@Injectable()
export class EvaluationLoop implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(`${SERVICE}:evaluation`);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly evaluate: EvaluateModelsService,
    private readonly store: MonitorStore,
    @Inject(MONITOR_SETTINGS) private readonly settings: MonitorSettings,
  ) {}

  onApplicationBootstrap(): void {
    if (this.settings.evaluateIntervalMs > 0) this.schedule();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass().finally(() => this.schedule());
    }, this.settings.evaluateIntervalMs);
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    try {
      const lock = await LOCK.tryLockForSession(this.store.dataSource, 'pass');
      if (!lock) return;
      try {
        const summary = await this.evaluate.evaluateAll(new Date());
        if (summary.driftEvents + summary.degradedEvents + summary.trainingRequests.length > 0)
          this.logger.log(
            `drift events ${summary.driftEvents}, degraded ${summary.degradedEvents}, training requests ${summary.trainingRequests.length}`,
          );
      } finally {
        await lock.release();
      }
    } catch (error) {
      this.logger.warn(
        `evaluation pass failed: ${(error as Error).name}; next pass in ${this.settings.evaluateIntervalMs} ms`,
      );
    }
  }
}
