import { Inject, Injectable, type OnModuleDestroy, Optional } from '@nestjs/common';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DataSource, EntityManager } from 'typeorm';
import { METRICS_REGISTRY } from '@mlops/observability';
import { POSTGRES } from '@mlops/storage';
import { AfterCommit } from '../infrastructure/after-commit';
import { type QualityReport, QualityWindow } from '../domain/quality-window';
import type { RecordError } from '../domain/record-check';

/** Prometheus series of data quality; one set per registry (prom-client refuses duplicates). */
class QualityMetrics {
  private static readonly byRegistry = new WeakMap<Registry, QualityMetrics>();
  readonly accepted: Counter<'dataset'>;
  readonly rejected: Counter<'dataset'>;
  readonly duplicates: Counter<'dataset'>;
  readonly errors: Counter<'dataset' | 'kind' | 'keyword'>;
  readonly nullRate: Gauge<'dataset' | 'field'>;

  static for(registry: Registry): QualityMetrics {
    let metrics = QualityMetrics.byRegistry.get(registry);
    if (!metrics) {
      metrics = new QualityMetrics(registry);
      QualityMetrics.byRegistry.set(registry, metrics);
    }
    return metrics;
  }

  private constructor(registry: Registry) {
    const registers = [registry];
    this.accepted = new Counter({
      name: 'ingestion_records_accepted_total',
      help: 'Records that passed their dataset schema',
      labelNames: ['dataset'],
      registers,
    });
    this.rejected = new Counter({
      name: 'ingestion_records_rejected_total',
      help: 'Records refused (schema errors, malformed JSON, unknown dataset)',
      labelNames: ['dataset'],
      registers,
    });
    this.duplicates = new Counter({
      name: 'ingestion_records_duplicate_total',
      help: 'Records whose record id was already accepted',
      labelNames: ['dataset'],
      registers,
    });
    this.errors = new Counter({
      name: 'ingestion_record_errors_total',
      help: 'Errors of rejected records by kind and by JSON Schema keyword (ajv keyword, or entityKey, eventTime, json, dataset)',
      labelNames: ['dataset', 'kind', 'keyword'],
      registers,
    });
    this.nullRate = new Gauge({
      name: 'ingestion_field_null_rate',
      help: 'Share of accepted records of the current quality window with the field null or absent',
      labelNames: ['dataset', 'field'],
      registers,
    });
  }
}

/** Dataset label for records of datasets that are not registered: keeps the series bounded. */
export const UNREGISTERED = '_unregistered';

/**
 * Counts what happens to records: Prometheus series now, mlops.data.quality.v1 windows on each flush. A count made
 * inside a transaction (`manager`: the inbox transaction of a Kafka message) is made when it commits, never when it
 * rolls back: a group of messages rolled back and tried again one by one, or a redelivered message (its inbox claim
 * fails, so nothing is counted), counts once.
 */
@Injectable()
export class QualityTracker implements OnModuleDestroy {
  private readonly metrics: QualityMetrics;
  private readonly window = new QualityWindow(new Date());
  private readonly afterCommit: AfterCommit | undefined;

  /** Without a data source (unit tests of the use cases) every count is made at once. */
  constructor(@Inject(METRICS_REGISTRY) registry: Registry, @Optional() @Inject(POSTGRES) dataSource?: DataSource) {
    this.metrics = QualityMetrics.for(registry);
    this.afterCommit = dataSource ? new AfterCommit(dataSource) : undefined;
  }

  onModuleDestroy(): void {
    this.afterCommit?.close();
  }

  accepted(dataset: string, values: Readonly<Record<string, unknown>>, manager?: EntityManager): void {
    this.whenCommitted(manager, () => this.acceptedAll(dataset, [values]));
  }

  /** Accepted records of one dataset (one request): the series are updated once, not once per record. */
  acceptedAll(dataset: string, records: ReadonlyArray<Readonly<Record<string, unknown>>>): void {
    if (records.length === 0) return;
    this.metrics.accepted.inc({ dataset }, records.length);
    for (const [field, rate] of Object.entries(this.window.acceptedAll(dataset, records)))
      this.metrics.nullRate.set({ dataset, field }, rate);
  }

  rejected(dataset: string | undefined, errors: readonly RecordError[], manager?: EntityManager): void {
    this.whenCommitted(manager, () => {
      const label = dataset ?? UNREGISTERED;
      this.metrics.rejected.inc({ dataset: label });
      for (const error of errors) this.metrics.errors.inc({ dataset: label, kind: error.kind, keyword: error.keyword });
      // Unregistered names are arbitrary text: they have no quality window.
      if (dataset !== undefined)
        this.window.rejected(
          dataset,
          errors.map((e) => e.kind),
        );
    });
  }

  /** A body item that is not even JSON: counted in Prometheus only (no error kind of the quality event fits). */
  malformed(dataset: string): void {
    this.metrics.rejected.inc({ dataset });
    this.metrics.errors.inc({ dataset, kind: 'malformed_json', keyword: 'json' });
  }

  duplicate(dataset: string, manager?: EntityManager): void {
    this.whenCommitted(manager, () => {
      this.metrics.duplicates.inc({ dataset });
      this.window.duplicate(dataset);
    });
  }

  private whenCommitted(manager: EntityManager | undefined, count: () => void): void {
    if (this.afterCommit) this.afterCommit.run(manager, count);
    else count();
  }

  /** Closes the current window. */
  closeWindow(now = new Date()): QualityReport[] {
    return this.window.close(now);
  }
}
