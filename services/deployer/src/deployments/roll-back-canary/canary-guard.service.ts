import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { EventTypes } from '@mlops/contracts';
import { newEvent } from '@mlops/messaging';
import { POSTGRES } from '@mlops/storage';
import type { DeployerConfig } from '../../config';
import { type CanaryBreach, CanaryWatch } from '../../domain/canary-watch';
import { PRODUCTION_ALIAS } from '../../domain/rollout';
import { announce } from '../../infrastructure/announce';
import type { LoadedModel } from '../../infrastructure/loaded-model';
import { ServingMetrics } from '../../infrastructure/serving-metrics';
import { ServingTable } from '../../infrastructure/serving-table';
import { DEPLOYER_CONFIG, INSTANCE_ID, SOURCE } from '../../tokens';

const UNITS = { error_rate: '%', p99_latency: ' ms' } as const;
const NAMES = { error_rate: 'error rate', p99_latency: 'p99 latency' } as const;

/**
 * Automatic canary rollback: watches each canary deployment's requests (failures, latency) against the configured
 * bounds (CANARY_MAX_ERROR_PERCENT, CANARY_MAX_P99_MS over its latest CANARY_WINDOW_REQUESTS, judged from
 * CANARY_MIN_REQUESTS on). The first breach stops routing to it at once (production answers all traffic) and
 * announces the rollback once: mlops.deployment.failed.v1, stage "canary_rollback", with the measured value and
 * its bound. The rolled-back version stays loaded behind the alias (explicit requests still reach it) until the
 * alias moves; a new canary deployment is watched afresh. Each replica judges the traffic it serves, and every
 * replica follows a rollback any replica announced (CanaryRollbackListener), also after a restart: one bad canary
 * is out of the whole fleet once one replica saw it break a bound.
 */
@Injectable()
export class CanaryGuardService {
  private readonly logger = new Logger('canary');
  private readonly watches = new WeakMap<LoadedModel, CanaryWatch>();
  private readonly rolledBack = new WeakSet<LoadedModel>();
  /** Promotions (event ids) whose canary some replica rolled back: never routed to again. */
  private readonly rolledBackPromotions = new Set<string>();

  constructor(
    private readonly table: ServingTable,
    private readonly metrics: ServingMetrics,
    @Inject(DEPLOYER_CONFIG) private readonly config: DeployerConfig,
    @Inject(INSTANCE_ID) private readonly instanceId: string,
    @Inject(POSTGRES) private readonly dataSource: DataSource,
  ) {}

  /** Whether production traffic may still be routed to this canary. */
  admits(canary: LoadedModel): boolean {
    return !this.rolledBack.has(canary) && !this.rolledBackPromotions.has(canary.deployment.promotionEventId);
  }

  /**
   * A rollback another replica announced (or this one, before a restart): the canary of that promotion stops
   * receiving production traffic here too, without a second announcement. Returns whether it was news.
   */
  follow(promotionEventId: string): boolean {
    if (this.rolledBackPromotions.has(promotionEventId)) return false;
    this.rolledBackPromotions.add(promotionEventId);
    return true;
  }

  /** Records one request the canary answered (or failed to); rolls it back when that breaks a bound. */
  record(canary: LoadedModel, failed: boolean, latencyMs: number): void {
    if (!this.admits(canary)) return;
    let watch = this.watches.get(canary);
    if (!watch) {
      watch = new CanaryWatch({
        maxErrorPercent: this.config.CANARY_MAX_ERROR_PERCENT,
        maxP99Ms: this.config.CANARY_MAX_P99_MS,
        minRequests: this.config.CANARY_MIN_REQUESTS,
        window: this.config.CANARY_WINDOW_REQUESTS,
      });
      this.watches.set(canary, watch);
    }
    const breach = watch.record(failed, latencyMs);
    if (breach) void this.rollBack(canary, breach);
  }

  private async rollBack(canary: LoadedModel, breach: CanaryBreach): Promise<void> {
    this.rolledBack.add(canary);
    this.rolledBackPromotions.add(canary.deployment.promotionEventId);
    const { model, alias, version, promotionEventId } = canary.deployment;
    const production = this.table.serving(model, PRODUCTION_ALIAS);
    const servingVersion = production?.deployment.version ?? null;
    const measured = Math.round(breach.measured * 1000) / 1000;
    const message =
      `canary v${version} rolled back: ${NAMES[breach.metric]} ${measured}${UNITS[breach.metric]} over its latest ` +
      `${Math.min(breach.requests, this.config.CANARY_WINDOW_REQUESTS)} of ${breach.requests} requests exceeds ` +
      `${breach.bound}${UNITS[breach.metric]}; ` +
      (servingVersion === null ? 'no production version serves' : `production v${servingVersion} answers all traffic`);
    this.logger.warn(`${model}/${alias}: ${message}`);
    this.metrics.deployments.inc({ model, outcome: 'canary_rolled_back' });
    await announce(
      this.dataSource,
      this.logger,
      newEvent(
        EventTypes.DeploymentFailedV1,
        {
          model,
          alias,
          version,
          strategy: 'canary',
          instanceId: this.instanceId,
          promotionEventId,
          stage: 'canary_rollback',
          errorCode: `${breach.metric}_exceeded`,
          message,
          servingVersion,
          failedAt: new Date().toISOString(),
          breach: { metric: breach.metric, measured, bound: breach.bound, requests: breach.requests },
        },
        { source: SOURCE },
      ),
    );
  }
}
