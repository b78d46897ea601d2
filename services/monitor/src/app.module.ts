import { type DynamicModule, Module } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { PlatformModule } from '@mlops/platform';
import { CLICKHOUSE, type ClickHouseClient, POSTGRES } from '@mlops/storage';
import { QueryClickHouseHttpController } from './analytics/query-clickhouse/query-clickhouse.http.controller';
import { QueryClickHouseService } from './analytics/query-clickhouse/query-clickhouse.service';
import type { MonitorConfig } from './config';
import { EvaluateModelsService } from './evaluation/evaluate-models/evaluate-models.service';
import { EvaluationLoop } from './evaluation/evaluation-loop';
import { MonitorMetrics } from './evaluation/monitor-metrics';
import { monitorMigrations } from './infrastructure/migrations';
import { MonitorAnalytics } from './infrastructure/monitor-analytics';
import { MonitorStore } from './infrastructure/monitor-store';
import { ClickHouseSink } from './infrastructure/sink';
import { MonitorLifecycle } from './monitor.lifecycle';
import { ModelPolicyHttpController } from './policies/model-policy/model-policy.http.controller';
import { ModelPolicyService } from './policies/model-policy/model-policy.service';
import { ModelDriftHttpController } from './reports/model-drift/model-drift.http.controller';
import { ModelDriftService } from './reports/model-drift/model-drift.service';
import { ModelPerformanceHttpController } from './reports/model-performance/model-performance.http.controller';
import { ModelPerformanceService } from './reports/model-performance/model-performance.service';
import { ModelResourcesHttpController } from './reports/model-resources/model-resources.http.controller';
import { ModelResourcesService } from './reports/model-resources/model-resources.service';
import { ReportPageHttpController } from './reports/report-page/report-page.http.controller';
import { ReportPageService } from './reports/report-page/report-page.service';
import { RecordEventsMessageController } from './sinks/record-events/record-events.message.controller';
import { RecordEventsService } from './sinks/record-events/record-events.service';
import { CLICKHOUSE_DATABASE, MONITOR_SETTINGS, type MonitorSettings, PG_SCHEMA, SERVICE } from './tokens';

export { PG_SCHEMA, SERVICE } from './tokens';

@Module({})
export class AppModule {
  static forRoot(config: MonitorConfig): DynamicModule {
    const settings: MonitorSettings = {
      windowSeconds: config.MONITOR_WINDOW_SECONDS,
      evaluateIntervalMs: config.MONITOR_EVALUATE_INTERVAL_MS,
      queryMaxRows: config.MONITOR_QUERY_MAX_ROWS,
      queryMaxSeconds: config.MONITOR_QUERY_MAX_SECONDS,
    };
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({
          service: SERVICE,
          pgSchema: PG_SCHEMA,
          config,
          clickhouseDatabase: CLICKHOUSE_DATABASE,
          migrations: monitorMigrations,
          consumerMaxGroup: config.MONITOR_SINK_GROUP,
        }),
      ],
      controllers: [
        RecordEventsMessageController,
        ModelPolicyHttpController,
        ModelDriftHttpController,
        ModelPerformanceHttpController,
        ModelResourcesHttpController,
        ReportPageHttpController,
        QueryClickHouseHttpController,
      ],
      providers: [
        { provide: MONITOR_SETTINGS, useValue: settings },
        {
          provide: MonitorStore,
          inject: [POSTGRES],
          useFactory: (dataSource: DataSource) => new MonitorStore(dataSource),
        },
        {
          provide: MonitorAnalytics,
          inject: [CLICKHOUSE],
          useFactory: (clickhouse: ClickHouseClient) => new MonitorAnalytics(clickhouse, CLICKHOUSE_DATABASE),
        },
        {
          provide: ClickHouseSink,
          inject: [POSTGRES, CLICKHOUSE],
          useFactory: (dataSource: DataSource, clickhouse: ClickHouseClient) =>
            ClickHouseSink.attach(dataSource, clickhouse, CLICKHOUSE_DATABASE),
        },
        MonitorMetrics,
        MonitorLifecycle,
        RecordEventsService,
        EvaluateModelsService,
        EvaluationLoop,
        ModelResourcesService,
        ModelPolicyService,
        ModelDriftService,
        ModelPerformanceService,
        ReportPageService,
        QueryClickHouseService,
      ],
    };
  }
}
