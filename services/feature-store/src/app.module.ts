import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@mlops/messaging';
import type { FeatureStoreConfig } from './config';

export const SERVICE = 'feature-store';
export const PG_SCHEMA = 'feature_store';

@Module({})
export class AppModule {
  static forRoot(config: FeatureStoreConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot({ service: SERVICE, pgSchema: PG_SCHEMA, config, clickhouseDatabase: PG_SCHEMA })],
    };
  }
}
