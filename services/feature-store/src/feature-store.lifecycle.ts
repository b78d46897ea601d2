import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { OfflineFeatureStore } from './offline';

/** The offline tables exist before the first event is consumed: the platform starts consuming after the init hooks. */
@Injectable()
export class FeatureStoreLifecycle implements OnModuleInit {
  constructor(@Inject(OfflineFeatureStore) private readonly offline: OfflineFeatureStore) {}

  onModuleInit(): Promise<void> {
    return this.offline.createTables();
  }
}
