import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@mlops/observability';

/** The monitor's results as Prometheus metrics, next to the events that carry them. */
@Injectable()
export class MonitorMetrics {
  readonly driftValue: Gauge<'model' | 'version' | 'feature' | 'metric'>;
  readonly datasetDriftShare: Gauge<'model' | 'version'>;
  readonly driftDetected: Counter<'model' | 'metric' | 'severity'>;
  readonly liveMetric: Gauge<'model' | 'version' | 'arm' | 'metric'>;
  readonly degraded: Counter<'model' | 'metric'>;
  readonly trainingRequested: Counter<'model' | 'trigger'>;
  readonly windowsEvaluated: Counter<'analysis'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    const registers = [registry];
    this.driftValue = new Gauge({
      name: 'monitor_drift_value',
      help: 'Drift statistic of the last judged window per model version, feature ($prediction: the score) and metric',
      labelNames: ['model', 'version', 'feature', 'metric'],
      registers,
    });
    this.datasetDriftShare = new Gauge({
      name: 'monitor_dataset_drift_share',
      help: 'Share of drifted input features in the last judged window',
      labelNames: ['model', 'version'],
      registers,
    });
    this.driftDetected = new Counter({
      name: 'monitor_drift_detected_total',
      help: 'mlops.drift.detected.v1 events sent',
      labelNames: ['model', 'metric', 'severity'],
      registers,
    });
    this.liveMetric = new Gauge({
      name: 'monitor_live_metric',
      help: 'Live metric of labelled predictions in the last complete window, per version and arm',
      labelNames: ['model', 'version', 'arm', 'metric'],
      registers,
    });
    this.degraded = new Counter({
      name: 'monitor_model_degraded_total',
      help: 'mlops.model.degraded.v1 events sent',
      labelNames: ['model', 'metric'],
      registers,
    });
    this.trainingRequested = new Counter({
      name: 'monitor_training_requested_total',
      help: 'mlops.training.requested.v1 events sent by the continuous-training policy',
      labelNames: ['model', 'trigger'],
      registers,
    });
    this.windowsEvaluated = new Counter({
      name: 'monitor_windows_evaluated_total',
      help: 'Windows judged for drift or performance',
      labelNames: ['analysis'],
      registers,
    });
  }
}
