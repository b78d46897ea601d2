import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@mlops/observability';

/** Prometheus series of training; one set per registry (prom-client refuses duplicates). */
class Series {
  private static readonly byRegistry = new WeakMap<Registry, Series>();
  readonly progress: Gauge<'training_run_id' | 'model'>;
  readonly finished: Counter<'model' | 'status'>;

  static for(registry: Registry): Series {
    let series = Series.byRegistry.get(registry);
    if (!series) {
      series = new Series(registry);
      Series.byRegistry.set(registry, series);
    }
    return series;
  }

  private constructor(registry: Registry) {
    this.progress = new Gauge({
      name: 'trainer_training_progress',
      help: 'Share of a training run done (0 to 1), while this trainer trains it; the series ends with the run',
      labelNames: ['training_run_id', 'model'],
      registers: [registry],
    });
    this.finished = new Counter({
      name: 'trainer_trainings_finished_total',
      help: 'Trainings this trainer finished, by model and outcome',
      labelNames: ['model', 'status'],
      registers: [registry],
    });
  }
}

/** The progress gauge of the runs this process trains, and a count of how they ended. */
@Injectable()
export class TrainingMetrics {
  private readonly series: Series;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.series = Series.for(registry);
  }

  progress(trainingRunId: string, model: string, fraction: number): void {
    this.series.progress.set({ training_run_id: trainingRunId, model }, fraction);
  }

  /** The run left this trainer (ended, or handed back): its progress series goes, so the label set stays bounded. */
  released(trainingRunId: string, model: string): void {
    this.series.progress.remove({ training_run_id: trainingRunId, model });
  }

  finished(model: string, status: 'succeeded' | 'failed'): void {
    this.series.finished.inc({ model, status });
  }
}
