import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@mlops/messaging';
import type { DeployerConfig } from './config';

export const SERVICE = 'deployer';
export const PG_SCHEMA = 'deployer';

@Module({})
export class AppModule {
  static forRoot(config: DeployerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot({ service: SERVICE, pgSchema: PG_SCHEMA, config, })],
    };
  }
}
