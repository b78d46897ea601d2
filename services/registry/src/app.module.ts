import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@mlops/messaging';
import type { RegistryConfig } from './config';

export const SERVICE = 'registry';
export const PG_SCHEMA = 'registry';

@Module({})
export class AppModule {
  static forRoot(config: RegistryConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot({ service: SERVICE, pgSchema: PG_SCHEMA, config, })],
    };
  }
}
