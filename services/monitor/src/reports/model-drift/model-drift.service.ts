import { Injectable } from '@nestjs/common';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { MonitorAnalytics, type StoredDriftRow } from '../../infrastructure/monitor-analytics';
import { MonitorStore } from '../../infrastructure/monitor-store';

export interface DriftWindowView {
  version: number;
  windowStart: string;
  windowEnd: string;
  driftedShare: number | null;
  datasetDrifted: boolean;
  features: Array<{
    feature: string;
    kind: string;
    sampleSize: number;
    drifted: boolean;
    psi: number | null;
    jensenShannon: number | null;
    ks: number | null;
    ksPValue: number | null;
    wasserstein: number | null;
    chiSquared: number | null;
    chiSquaredPValue: number | null;
  }>;
}

/** Judged drift windows of a model, oldest first, one entry per version and window. */
export function driftWindowsOf(rows: readonly StoredDriftRow[]): DriftWindowView[] {
  const windows = new Map<string, DriftWindowView>();
  for (const r of rows) {
    const start = new Date(r.window_start).toISOString();
    const key = `${r.version}/${start}`;
    let w = windows.get(key);
    if (!w) {
      w = {
        version: r.version,
        windowStart: start,
        windowEnd: new Date(r.window_end).toISOString(),
        driftedShare: null,
        datasetDrifted: false,
        features: [],
      };
      windows.set(key, w);
    }
    if (r.feature === '$dataset') {
      w.driftedShare = r.drifted_share;
      w.datasetDrifted = Number(r.drifted) === 1;
      continue;
    }
    w.features.push({
      feature: r.feature,
      kind: r.kind,
      sampleSize: Number(r.sample_size),
      drifted: Number(r.drifted) === 1,
      psi: r.psi,
      jensenShannon: r.js_distance,
      ks: r.ks_statistic,
      ksPValue: r.ks_p_value,
      wasserstein: r.wasserstein_norm,
      chiSquared: r.chi_squared,
      chiSquaredPValue: r.chi_squared_p_value,
    });
  }
  return [...windows.values()];
}

@Injectable()
export class ModelDriftService {
  constructor(
    private readonly store: MonitorStore,
    private readonly analytics: MonitorAnalytics,
  ) {}

  async drift(model: string, version?: number): Promise<Result<DriftWindowView[], DomainError<'model_not_found'>>> {
    const versions = await this.store.versions(undefined, model);
    if (versions.length === 0) return err(domainError('model_not_found', `no registered version of model "${model}"`));
    return ok(driftWindowsOf(await this.analytics.driftHistory(model, version)));
  }
}
