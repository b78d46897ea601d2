import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EventTypes } from '@mlops/contracts';
import type { CloudEvent, CloudEventContext } from '@mlops/messaging';
import { CatalogStore } from '../../infrastructure/catalog-store';

const SUCCEEDED = EventTypes.DeploymentSucceededV1;
const FAILED = EventTypes.DeploymentFailedV1;

/** The deployer's reports, kept as each version's deployment history (lineage, model card). */
@Controller()
export class DeploymentMessageController {
  constructor(private readonly catalog: CatalogStore) {}

  @EventPattern(SUCCEEDED)
  async onSucceeded(@Payload() event: CloudEvent<typeof SUCCEEDED>, @Ctx() context: CloudEventContext): Promise<void> {
    const { model, version, alias, instanceId, promotionEventId, servingSince, ...details } = event.data;
    await this.catalog.recordDeployment(context.manager, {
      eventId: event.id,
      model,
      version,
      alias,
      outcome: 'succeeded',
      instanceId,
      promotionEventId,
      details,
      at: servingSince,
    });
  }

  @EventPattern(FAILED)
  async onFailed(@Payload() event: CloudEvent<typeof FAILED>, @Ctx() context: CloudEventContext): Promise<void> {
    const { model, version, alias, instanceId, promotionEventId, failedAt, ...details } = event.data;
    await this.catalog.recordDeployment(context.manager, {
      eventId: event.id,
      model,
      version,
      alias,
      outcome: 'failed',
      instanceId,
      promotionEventId,
      details,
      at: failedAt,
    });
  }
}
