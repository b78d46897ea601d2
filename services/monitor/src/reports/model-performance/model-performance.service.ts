import { Injectable } from '@nestjs/common';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { MonitorAnalytics, type StoredPerformanceRow } from '../../infrastructure/monitor-analytics';
import { MonitorStore } from '../../infrastructure/monitor-store';

export interface PerformanceWindowView {
  version: number;
  arm: string;
  windowStart: string;
  windowEnd: string;
  predictions: number;
  labeled: number;
  metrics: Record<string, number | null>;
}

export function performanceWindowsOf(rows: readonly StoredPerformanceRow[]): PerformanceWindowView[] {
  return rows.map((r) => ({
    version: r.version,
    arm: r.serving_role,
    windowStart: new Date(r.window_start).toISOString(),
    windowEnd: new Date(r.window_end).toISOString(),
    predictions: Number(r.predictions),
    labeled: Number(r.labeled),
    metrics: Object.fromEntries(
      (['accuracy', 'precision', 'recall', 'f1', 'auc', 'rmse', 'mae'] as const)
        .filter((m) => r[m] !== null)
        .map((m) => [m, r[m]]),
    ),
  }));
}

@Injectable()
export class ModelPerformanceService {
  constructor(
    private readonly store: MonitorStore,
    private readonly analytics: MonitorAnalytics,
  ) {}

  async performance(
    model: string,
    version?: number,
  ): Promise<Result<PerformanceWindowView[], DomainError<'model_not_found'>>> {
    const versions = await this.store.versions(undefined, model);
    if (versions.length === 0) return err(domainError('model_not_found', `no registered version of model "${model}"`));
    return ok(performanceWindowsOf(await this.analytics.performanceHistory(model, version)));
  }
}
