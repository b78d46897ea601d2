import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@mlops/messaging';
import type { MonitorConfig } from './config';

export const SERVICE = 'monitor';
export const PG_SCHEMA = 'monitor';

@Module({})
export class AppModule {
  static forRoot(config: MonitorConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot({ service: SERVICE, pgSchema: PG_SCHEMA, config, clickhouseDatabase: PG_SCHEMA })],
    };
  }
}
