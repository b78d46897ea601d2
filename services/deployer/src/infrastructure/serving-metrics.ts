import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

type Labels = 'model' | 'version' | 'arm';

/** Prometheus metrics of serving: per model, version and arm (primary, canary, shadow). */
export class ServingMetrics {
  readonly requests: Counter<Labels | 'channel'>;
  readonly errors: Counter<Labels | 'channel' | 'kind'>;
  readonly latency: Histogram<Labels | 'channel'>;
  readonly requestRows: Histogram<'model'>;
  readonly sessionRunRows: Histogram<'model' | 'version'>;
  readonly sessionsLoaded: Gauge;
  readonly deployments: Counter<'model' | 'outcome'>;
  readonly logDropped: Counter;
  readonly logBuffered: Gauge;
  readonly onlineEntities: Gauge<'feature_view'>;
  /** Entities per feature view, read when metrics are scraped. */
  onlineSizes: () => Record<string, number> = () => ({});

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'mlops_predictions_requests_total',
      help: 'Prediction requests answered, by model, version, arm and channel (http, oip, stream)',
      labelNames: ['model', 'version', 'arm', 'channel'],
      registers,
    });
    this.errors = new Counter({
      name: 'mlops_predictions_errors_total',
      help: 'Prediction requests refused or failed, by kind',
      labelNames: ['model', 'version', 'arm', 'channel', 'kind'],
      registers,
    });
    this.latency = new Histogram({
      name: 'mlops_predictions_latency_seconds',
      help: 'Time to answer a prediction request in the service (features, run, answer)',
      labelNames: ['model', 'version', 'arm', 'channel'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.requestRows = new Histogram({
      name: 'mlops_predictions_request_rows',
      help: 'Rows per prediction request',
      labelNames: ['model'],
      buckets: [1, 2, 4, 8, 16, 64, 256, 1024],
      registers,
    });
    this.sessionRunRows = new Histogram({
      name: 'mlops_serving_session_run_rows',
      help: 'Rows per ONNX Runtime run (micro-batches coalesce requests)',
      labelNames: ['model', 'version'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024],
      registers,
    });
    this.sessionsLoaded = new Gauge({
      name: 'mlops_serving_sessions_loaded',
      help: 'ONNX Runtime sessions loaded (serving, or retired and still draining)',
      registers,
    });
    this.deployments = new Counter({
      name: 'mlops_deployments_total',
      help: 'Promotions acted on, by outcome (succeeded, failed, unchanged)',
      labelNames: ['model', 'outcome'],
      registers,
    });
    this.logDropped = new Counter({
      name: 'mlops_prediction_log_dropped_total',
      help: 'Predictions not logged because the log buffer was full (Kafka slow or down)',
      registers,
    });
    this.logBuffered = new Gauge({
      name: 'mlops_prediction_log_buffered',
      help: 'Predictions waiting to be sent to mlops.prediction.logged.v1',
      registers,
    });
    this.onlineEntities = new Gauge({
      name: 'mlops_online_features_entities',
      help: 'Entities whose latest feature vector is held in memory, per feature view',
      labelNames: ['feature_view'],
      registers,
      collect: () => {
        for (const [view, size] of Object.entries(this.onlineSizes()))
          this.onlineEntities.set({ feature_view: view }, size);
      },
    });
  }
}
