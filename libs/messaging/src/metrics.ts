import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Messaging metrics of one process; every runner and producer of that process shares them. */
export class MessagingMetrics {
  readonly consumed: Counter<'topic' | 'consumer' | 'outcome'>;
  readonly produced: Counter<'topic'>;
  readonly deadLettered: Counter<'topic' | 'consumer' | 'reason'>;
  readonly handlerSeconds: Histogram<'topic' | 'consumer'>;
  readonly consumerLag: Gauge<'topic' | 'partition' | 'consumer'>;
  readonly outboxPending: Gauge<'schema'>;
  readonly waitingOnDependency: Gauge<'topic' | 'partition' | 'consumer'>;

  private static readonly byRegistry = new WeakMap<Registry, MessagingMetrics>();

  /** prom-client refuses a metric registered twice: one instance per registry. */
  static for(registry: Registry): MessagingMetrics {
    let metrics = MessagingMetrics.byRegistry.get(registry);
    if (!metrics) {
      metrics = new MessagingMetrics(registry);
      MessagingMetrics.byRegistry.set(registry, metrics);
    }
    return metrics;
  }

  private constructor(registry: Registry) {
    const registers = [registry];
    this.consumed = new Counter({
      name: 'mlops_messages_consumed_total',
      help: 'Messages taken off a topic, by outcome (processed, duplicate, dead_lettered)',
      labelNames: ['topic', 'consumer', 'outcome'],
      registers,
    });
    this.produced = new Counter({
      name: 'mlops_messages_produced_total',
      help: 'Messages acknowledged by the broker',
      labelNames: ['topic'],
      registers,
    });
    this.deadLettered = new Counter({
      name: 'mlops_messages_dead_lettered_total',
      help: 'Messages sent to a dead-letter topic, by reason',
      labelNames: ['topic', 'consumer', 'reason'],
      registers,
    });
    this.handlerSeconds = new Histogram({
      name: 'mlops_handler_duration_seconds',
      help: 'Time from taking a message to its durable effect, retries included',
      labelNames: ['topic', 'consumer'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.consumerLag = new Gauge({
      name: 'mlops_consumer_lag',
      help: 'Messages between the last processed offset and the partition high watermark',
      labelNames: ['topic', 'partition', 'consumer'],
      registers,
    });
    this.waitingOnDependency = new Gauge({
      name: 'mlops_consumer_waiting_on_dependency',
      help: '1 while a partition waits for an unavailable dependency (Postgres, ClickHouse, Kafka) before it goes on',
      labelNames: ['topic', 'partition', 'consumer'],
      registers,
    });
    this.outboxPending = new Gauge({
      name: 'mlops_outbox_pending',
      help: 'Outbox rows not yet published',
      labelNames: ['schema'],
      registers,
    });
  }
}
