import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { EventTypes } from '@mlops/contracts';
import { type CloudEvent, enqueueManyInOutbox, newEvent } from '@mlops/messaging';
import {
  type DriftFinding,
  type LiveMetric,
  type MonitorPolicy,
  PREDICTION_FEATURE,
  trainingWindowStart,
  type WindowJudgement,
  decideTraining,
  defaultPolicy,
  judgePerformance,
  judgeWindow,
  registryEventRow,
  resolvePolicy,
} from '../../domain';
import { MonitorTables } from '../../infrastructure/clickhouse-tables';
import { type DriftWindow, MonitorAnalytics, type StoredDriftRow } from '../../infrastructure/monitor-analytics';
import { type ModelVersionRow, MonitorStore } from '../../infrastructure/monitor-store';
import { ClickHouseSink } from '../../infrastructure/sink';
import { MONITOR_SETTINGS, type MonitorSettings, PG_SCHEMA, SOURCE } from '../../tokens';
import { MonitorMetrics } from '../monitor-metrics';

/** What one pass did, for logs and tests. */
export interface EvaluationSummary {
  driftWindows: number;
  driftEvents: number;
  performanceWindows: number;
  degradedEvents: number;
  trainingRequests: Array<{ model: string; trigger: string; trainingRunId: string }>;
}

const DATASET_FEATURE = '$dataset';
const CLASSIFICATION_METRICS: readonly LiveMetric[] = ['accuracy', 'precision', 'recall', 'f1', 'auc'];
const REGRESSION_METRICS: readonly LiveMetric[] = ['rmse', 'mae'];

/**
 * One pass of the monitor over every registered model version: drift of the complete windows not judged yet,
 * live performance of the windows whose labels had time to arrive, then each model's continuous-training policy.
 * Statistics come from ClickHouse; decisions from the domain; events leave through the outbox in the transaction
 * that records the window as judged, so a window's events are sent once.
 */
@Injectable()
export class EvaluateModelsService {
  constructor(
    private readonly store: MonitorStore,
    private readonly analytics: MonitorAnalytics,
    private readonly sink: ClickHouseSink,
    private readonly metrics: MonitorMetrics,
    @Inject(MONITOR_SETTINGS) private readonly settings: MonitorSettings,
  ) {}

  async policyOf(manager: EntityManager, model: string): Promise<MonitorPolicy> {
    return resolvePolicy(defaultPolicy(this.settings.windowSeconds), await this.store.policy(manager, model));
  }

  /** One pass over every registered model, or over `models` only. */
  async evaluateAll(now: Date = new Date(), models?: readonly string[]): Promise<EvaluationSummary> {
    const summary: EvaluationSummary = {
      driftWindows: 0,
      driftEvents: 0,
      performanceWindows: 0,
      degradedEvents: 0,
      trainingRequests: [],
    };
    const versions = (await this.store.versions()).filter((v) => models === undefined || models.includes(v.model));
    for (const version of versions) {
      await this.evaluateDrift(version, now, summary);
      await this.evaluatePerformance(version, now, summary);
    }
    for (const model of new Set(versions.map((v) => v.model))) await this.applyTrainingPolicy(model, now, summary);
    return summary;
  }

  private async evaluateDrift(v: ModelVersionRow, now: Date, summary: EvaluationSummary): Promise<void> {
    const manager = this.store.dataSource.manager;
    const policy = await this.policyOf(manager, v.model);
    const last = await this.store.lastWindowKey(manager, v.model, v.version, 'drift');
    const windows = await this.analytics.drift(v.model, v.version, policy.window, last === null ? 0 : last + 1, now);
    for (const window of windows) {
      const judgement = judgeWindow(window.stats, policy.drift, PREDICTION_FEATURE);
      await this.analytics.saveDrift(driftRows(v, window, judgement), now);
      const events = driftEvents(v, window, judgement, policy, now);
      const sent = await this.store.dataSource.transaction(async (tx) => {
        const fresh = await this.store.markEvaluated(tx, {
          model: v.model,
          version: v.version,
          analysis: 'drift',
          key: window.key,
          start: window.start,
          end: window.end,
          outcome: { driftedFeatures: judgement.driftedFeatures, driftedShare: judgement.driftedShare },
        });
        if (!fresh) return false;
        await enqueueManyInOutbox(tx, PG_SCHEMA, events);
        const state = await this.store.stateForUpdate(tx, v.model);
        if (state.last_drift_window === null || Number(state.last_drift_window) < window.key) {
          state.drift_streak = judgement.datasetDrifted ? state.drift_streak + 1 : 0;
          state.drift_started_at = !judgement.datasetDrifted
            ? null
            : state.drift_streak === 1 || state.drift_started_at === null
              ? new Date(window.start)
              : state.drift_started_at;
          state.last_drift_window = String(window.key);
        }
        const cause = events.find((e) => e.data.kind === 'dataset') ?? events[0];
        if (cause) state.cause_event_id = cause.id;
        await this.store.saveState(tx, state);
        return true;
      });
      summary.driftWindows++;
      this.metrics.windowsEvaluated.inc({ analysis: 'drift' });
      for (const s of window.stats)
        for (const [metric, value] of [
          ['psi', s.psi],
          ['jensen_shannon', s.jsDistance],
          ['ks', s.ksStatistic],
          ['wasserstein', s.wassersteinNorm],
          ['chi_squared', s.chiSquared],
        ] as const)
          if (value !== null)
            this.metrics.driftValue.set(
              { model: v.model, version: String(v.version), feature: s.feature, metric },
              value,
            );
      this.metrics.datasetDriftShare.set({ model: v.model, version: String(v.version) }, judgement.driftedShare);
      if (!sent) continue;
      summary.driftEvents += events.length;
      for (const e of events)
        this.metrics.driftDetected.inc({ model: v.model, metric: e.data.metric, severity: e.data.severity });
      await this.sink.write(
        MonitorTables.registryEvents,
        events.map((e) =>
          registryEventRow(e.id, {
            kind: 'drift_detected',
            model: v.model,
            version: v.version,
            alias: e.data.alias,
            at: e.data.detectedAt,
            detail: e.data,
          }),
        ),
      );
    }
  }

  private async evaluatePerformance(v: ModelVersionRow, now: Date, summary: EvaluationSummary): Promise<void> {
    const manager = this.store.dataSource.manager;
    const policy = await this.policyOf(manager, v.model);
    const windowMs =
      (policy.performance.windowSeconds ??
        (policy.window.by === 'time' ? policy.window.seconds : this.settings.windowSeconds)) * 1000;
    const last = await this.store.lastWindowKey(manager, v.model, v.version, 'performance');
    const windows = await this.analytics.performance(
      v.model,
      v.version,
      { dataset: v.label_dataset, field: v.label_field, requestIdField: policy.performance.labelRequestIdField },
      windowMs,
      policy.performance.labelHorizonSeconds * 1000,
      last === null ? 0 : last + 1,
      now,
    );
    const allowed = v.task === 'regression' ? REGRESSION_METRICS : CLASSIFICATION_METRICS;
    await this.analytics.savePerformance(
      windows.map((w) => ({
        model: v.model,
        version: v.version,
        serving_role: w.servingRole,
        window_start: w.windowStart,
        window_end: w.windowEnd,
        predictions: w.predictions,
        labeled: w.labeled,
        accuracy: allowed.includes('accuracy') ? (w.metrics.accuracy ?? null) : null,
        precision: allowed.includes('precision') ? (w.metrics.precision ?? null) : null,
        recall: allowed.includes('recall') ? (w.metrics.recall ?? null) : null,
        f1: allowed.includes('f1') ? (w.metrics.f1 ?? null) : null,
        auc: allowed.includes('auc') ? (w.metrics.auc ?? null) : null,
        rmse: allowed.includes('rmse') ? (w.metrics.rmse ?? null) : null,
        mae: allowed.includes('mae') ? (w.metrics.mae ?? null) : null,
      })),
      now,
    );
    for (const w of windows) {
      for (const metric of allowed) {
        const value = w.metrics[metric];
        if (value !== null && value !== undefined && w.labeled > 0)
          this.metrics.liveMetric.set(
            { model: v.model, version: String(v.version), arm: w.servingRole, metric },
            value,
          );
      }
      const degradation = allowed.includes(policy.performance.metric) ? judgePerformance(w, policy.performance) : null;
      const event = degradation
        ? newEvent(
            EventTypes.ModelDegradedV1,
            {
              model: v.model,
              alias: w.alias,
              version: v.version,
              metric: degradation.metric,
              value: degradation.value,
              threshold: degradation.threshold,
              higherIsBetter: degradation.higherIsBetter,
              baselineValue: v.metrics[degradation.metric] ?? null,
              window: { start: w.windowStart, end: w.windowEnd },
              labeledCount: w.labeled,
              detectedAt: now.toISOString(),
              servingRole: w.servingRole as 'primary' | 'canary' | 'shadow',
            },
            { source: SOURCE },
          )
        : null;
      const sent = await this.store.dataSource.transaction(async (tx) => {
        const fresh = await this.store.markEvaluated(tx, {
          model: v.model,
          version: v.version,
          analysis: 'performance',
          arm: w.servingRole,
          key: w.windowKey,
          start: w.windowStart,
          end: w.windowEnd,
          outcome: { labeled: w.labeled, metrics: w.metrics, degraded: degradation !== null },
        });
        if (!fresh) return false;
        // Only the answering arm of the serving version moves the model's degraded flag.
        if (w.servingRole !== 'shadow' && w.labeled >= policy.performance.minLabeled) {
          const state = await this.store.stateForUpdate(tx, v.model);
          state.degraded = degradation !== null;
          if (event) state.cause_event_id = event.id;
          await this.store.saveState(tx, state);
        }
        if (event) await enqueueManyInOutbox(tx, PG_SCHEMA, [event]);
        return true;
      });
      summary.performanceWindows++;
      this.metrics.windowsEvaluated.inc({ analysis: 'performance' });
      if (sent && event) {
        summary.degradedEvents++;
        this.metrics.degraded.inc({ model: v.model, metric: event.data.metric });
        await this.sink.write(MonitorTables.registryEvents, [
          registryEventRow(event.id, {
            kind: 'degraded',
            model: v.model,
            version: v.version,
            alias: event.data.alias,
            at: event.data.detectedAt,
            detail: event.data,
          }),
        ]);
      }
    }
  }

  /** Asks for training when the model's policy says so; the request needs the lineage of its last training. */
  private async applyTrainingPolicy(model: string, now: Date, summary: EvaluationSummary): Promise<void> {
    const event = await this.store.dataSource.transaction(async (tx) => {
      const lineage = await this.store.lineage(tx, model);
      if (!lineage) return null;
      const policy = await this.policyOf(tx, model);
      const state = await this.store.stateForUpdate(tx, model);
      const newLabels =
        policy.training.minNewLabels === null
          ? 0
          : await this.analytics.labelsSince(lineage.labels.dataset, new Date(lineage.trained_at));
      const decision = decideTraining(policy.training, {
        now,
        inFlight: state.in_flight_run_id !== null,
        lastRequestedAt: state.last_requested_at,
        lastTrainedAt: new Date(lineage.trained_at),
        driftStreak: state.drift_streak,
        degraded: state.degraded,
        newLabels,
      });
      if (!decision) return null;
      const trainingRunId = randomUUID();
      const start = trainingWindowStart(policy.training, decision.trigger, lineage.training_window.start, state);
      const request = newEvent(
        EventTypes.TrainingRequestedV1,
        {
          trainingRunId,
          model,
          task: lineage.task,
          algorithm: lineage.algorithm,
          featureView: lineage.feature_view,
          labels: lineage.labels,
          trainingWindow: { start, end: new Date(Math.max(now.getTime(), Date.parse(start) + 1)).toISOString() },
          reason: {
            trigger: decision.trigger,
            detail: decision.detail,
            ...(state.cause_event_id && decision.trigger !== 'schedule' && decision.trigger !== 'new_data'
              ? { causeEventId: state.cause_event_id }
              : {}),
          },
          requestedBy: 'monitor',
          requestedAt: now.toISOString(),
        },
        { source: SOURCE },
      );
      await enqueueManyInOutbox(tx, PG_SCHEMA, [request]);
      await this.store.saveState(tx, {
        ...state,
        in_flight_run_id: trainingRunId,
        in_flight_since: now,
        last_requested_at: now,
        drift_streak: 0,
        drift_started_at: null,
        degraded: false,
      });
      return request;
    });
    if (!event) return;
    summary.trainingRequests.push({
      model,
      trigger: event.data.reason.trigger,
      trainingRunId: event.data.trainingRunId,
    });
    this.metrics.trainingRequested.inc({ model, trigger: event.data.reason.trigger });
    await this.sink.write(MonitorTables.registryEvents, [
      registryEventRow(event.id, {
        kind: 'training_requested',
        model,
        trainingRunId: event.data.trainingRunId,
        trigger: event.data.reason.trigger,
        at: event.data.requestedAt,
        detail: event.data,
      }),
    ]);
  }
}

function driftRows(v: ModelVersionRow, window: DriftWindow, judgement: WindowJudgement): StoredDriftRow[] {
  const drifted = new Set(judgement.driftedFeatures);
  const base = { model: v.model, version: v.version, window_start: window.start, window_end: window.end };
  return [
    ...window.stats.map((s) => ({
      ...base,
      feature: s.feature,
      kind: s.kind,
      sample_size: s.sampleSize,
      psi: s.psi,
      js_distance: s.jsDistance,
      ks_statistic: s.ksStatistic,
      ks_p_value: s.ksPValue,
      wasserstein_norm: s.wassersteinNorm,
      chi_squared: s.chiSquared,
      chi_squared_p_value: s.chiSquaredPValue,
      drifted_share: null,
      drifted: drifted.has(s.feature) ? 1 : 0,
    })),
    {
      ...base,
      feature: DATASET_FEATURE,
      kind: 'dataset',
      sample_size: window.rows,
      psi: null,
      js_distance: null,
      ks_statistic: null,
      ks_p_value: null,
      wasserstein_norm: null,
      chi_squared: null,
      chi_squared_p_value: null,
      drifted_share: judgement.driftedShare,
      drifted: judgement.datasetDrifted ? 1 : 0,
    },
  ];
}

function driftEvents(
  v: ModelVersionRow,
  window: DriftWindow,
  judgement: WindowJudgement,
  policy: MonitorPolicy,
  now: Date,
): Array<CloudEvent<typeof EventTypes.DriftDetectedV1>> {
  const sampleSizes = new Map(window.stats.map((s) => [s.feature, s.sampleSize]));
  const common = {
    model: v.model,
    alias: window.alias,
    version: v.version,
    window: { start: window.start, end: window.end },
    windowIndex: window.key,
    detectedAt: now.toISOString(),
  };
  const events = judgement.findings.map((f: DriftFinding) =>
    newEvent(
      EventTypes.DriftDetectedV1,
      {
        ...common,
        kind: f.feature === PREDICTION_FEATURE ? 'prediction' : 'feature',
        feature: f.feature === PREDICTION_FEATURE ? null : f.feature,
        metric: f.metric,
        value: f.value,
        threshold: f.threshold,
        severity: f.severity,
        ...(f.pValue === undefined ? {} : { pValue: f.pValue }),
        sampleSize: Math.max(1, sampleSizes.get(f.feature) ?? 1),
      },
      { source: SOURCE },
    ),
  );
  if (judgement.datasetDrifted)
    events.push(
      newEvent(
        EventTypes.DriftDetectedV1,
        {
          ...common,
          kind: 'dataset',
          feature: null,
          metric: 'drifted_share',
          value: judgement.driftedShare,
          threshold: policy.drift.datasetDriftShare,
          severity: judgement.driftedShare >= Math.min(1, 2 * policy.drift.datasetDriftShare) ? 'critical' : 'warning',
          sampleSize: Math.max(1, window.rows),
        },
        { source: SOURCE },
      ),
    );
  return events;
}
