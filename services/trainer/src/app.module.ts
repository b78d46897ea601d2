import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@mlops/messaging';
import type { TrainerConfig } from './config';

export const SERVICE = 'trainer';
export const PG_SCHEMA = 'trainer';

@Module({})
export class AppModule {
  static forRoot(config: TrainerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot({ service: SERVICE, pgSchema: PG_SCHEMA, config, })],
    };
  }
}
