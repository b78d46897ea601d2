import { DynamicModule, Global, Module } from '@nestjs/common';
import { Registry } from 'prom-client';
import { HealthController, HealthRegistry } from './health';
import { METRICS_REGISTRY, MetricsController, createMetricsRegistry } from './metrics';

export interface ObservabilityOptions {
  service: string;
  /** Reuse a registry made before the Nest app (e.g. shared with the messaging runner). */
  registry?: Registry;
}

/** `GET /health/live`, `GET /health/ready` and `GET /metrics` for any service. */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(options: ObservabilityOptions): DynamicModule {
    return {
      module: ObservabilityModule,
      controllers: [HealthController, MetricsController],
      providers: [
        HealthRegistry,
        { provide: METRICS_REGISTRY, useValue: options.registry ?? createMetricsRegistry(options.service) },
      ],
      exports: [HealthRegistry, METRICS_REGISTRY],
    };
  }
}
