import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HealthRegistry } from '@mlops/observability';
import { PromotedListener } from '../deployments/deploy-model/promoted.listener';
import { CanaryRollbackListener } from '../deployments/roll-back-canary/canary-rollback.listener';
import { MaterializedListener } from '../features/cache-features/materialized.listener';

/**
 * Ready to serve: the promoted versions of the history are loaded (or failed), the online features caught up with
 * the topic's end as it was at start, and the canary rollbacks announced so far are known. Part of /health/ready
 * and of OIP's /v2/health/ready.
 */
@Injectable()
export class ServingReadiness implements OnModuleInit {
  constructor(
    private readonly health: HealthRegistry,
    private readonly promoted: PromotedListener,
    private readonly features: MaterializedListener,
    private readonly rollbacks: CanaryRollbackListener,
  ) {}

  onModuleInit(): void {
    this.health.register({
      name: 'serving',
      check: async () => {
        const missing = this.missing();
        if (missing.length > 0) throw new Error(`not yet: ${missing.join(', ')}`);
      },
    });
  }

  get ready(): boolean {
    return this.missing().length === 0;
  }

  private missing(): string[] {
    const missing: string[] = [];
    if (!this.promoted.isLoaded) missing.push('promoted models loading');
    if (!this.features.isCaughtUp) missing.push('online features catching up');
    if (!this.rollbacks.isCaughtUp) missing.push('canary rollbacks of other replicas catching up');
    return missing;
  }
}
