import { Injectable } from '@nestjs/common';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { EvaluateModelsService } from '../../evaluation/evaluate-models/evaluate-models.service';
import { MonitorAnalytics } from '../../infrastructure/monitor-analytics';
import { MonitorStore } from '../../infrastructure/monitor-store';
import { driftWindowsOf } from '../model-drift/model-drift.service';
import { performanceWindowsOf } from '../model-performance/model-performance.service';
import { renderReport } from './render-report';

@Injectable()
export class ReportPageService {
  constructor(
    private readonly store: MonitorStore,
    private readonly analytics: MonitorAnalytics,
    private readonly evaluation: EvaluateModelsService,
  ) {}

  async page(model: string): Promise<Result<string, DomainError<'model_not_found'>>> {
    const versions = await this.store.versions(undefined, model);
    if (versions.length === 0) return err(domainError('model_not_found', `no registered version of model "${model}"`));
    const policy = await this.evaluation.policyOf(this.store.dataSource.manager, model);
    const [drift, performance, marks] = await Promise.all([
      this.analytics.driftHistory(model),
      this.analytics.performanceHistory(model),
      this.analytics.versionMarks(model),
    ]);
    return ok(
      renderReport({
        model,
        drift: driftWindowsOf(drift),
        performance: performanceWindowsOf(performance),
        marks,
        metric: policy.performance.metric,
        floor: policy.performance.floor,
        psiWarning: policy.drift.psiWarning,
        psiCritical: policy.drift.psiCritical,
        generatedAt: new Date().toISOString(),
      }),
    );
  }
}
