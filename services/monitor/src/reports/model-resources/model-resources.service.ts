import { Injectable } from '@nestjs/common';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { MonitorAnalytics } from '../../infrastructure/monitor-analytics';
import { MonitorStore } from '../../infrastructure/monitor-store';

export interface ResourceWindowView {
  version: number;
  windowStart: string;
  windowEnd: string;
  predictions: number;
  /** CPU seconds of the serving processes, shared between versions by their predictions. */
  cpuSeconds: number;
  /** The cost proxy: CPU seconds per 1,000 predictions. */
  cpuSecondsPer1000: number | null;
  maxRssBytes: number | null;
  instances: number;
}

/** Cost proxy and resource use of a model per version and window, oldest first. */
@Injectable()
export class ModelResourcesService {
  constructor(
    private readonly store: MonitorStore,
    private readonly analytics: MonitorAnalytics,
  ) {}

  async resources(
    model: string,
    windowSeconds: number,
    version?: number,
  ): Promise<Result<ResourceWindowView[], DomainError<'model_not_found'>>> {
    const versions = await this.store.versions(undefined, model);
    if (versions.length === 0) return err(domainError('model_not_found', `no registered version of model "${model}"`));
    const rows = await this.analytics.resourceUse(model, windowSeconds, version);
    return ok(
      rows.map((r) => ({
        version: Number(r.version),
        windowStart: new Date(r.window_start).toISOString(),
        windowEnd: new Date(r.window_end).toISOString(),
        predictions: Number(r.predictions),
        cpuSeconds: Number(r.cpu_seconds),
        cpuSecondsPer1000: r.cpu_seconds_per_1000 === null ? null : Number(r.cpu_seconds_per_1000),
        maxRssBytes: r.max_rss_bytes === null ? null : Number(r.max_rss_bytes),
        instances: Number(r.instances),
      })),
    );
  }
}
