import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@mlops/platform';
import type { MonitorConfig } from './config';
import { CLICKHOUSE_DATABASE, PG_SCHEMA, SERVICE } from './tokens';

export { PG_SCHEMA, SERVICE } from './tokens';

@Module({})
export class AppModule {
  static forRoot(config: MonitorConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({
          service: SERVICE,
          pgSchema: PG_SCHEMA,
          config,
          clickhouseDatabase: CLICKHOUSE_DATABASE,
        }),
      ],
    };
  }
}
