import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { CLICKHOUSE, type ClickHouseClient } from '@mlops/storage';
import { createMonitorTables } from './infrastructure/clickhouse-tables';
import { CLICKHOUSE_DATABASE } from './tokens';

/** The ClickHouse tables exist before the first event is consumed: the platform starts consuming after the init hooks. */
@Injectable()
export class MonitorLifecycle implements OnModuleInit {
  constructor(@Inject(CLICKHOUSE) private readonly clickhouse: ClickHouseClient) {}

  onModuleInit(): Promise<void> {
    return createMonitorTables(this.clickhouse, CLICKHOUSE_DATABASE);
  }
}
