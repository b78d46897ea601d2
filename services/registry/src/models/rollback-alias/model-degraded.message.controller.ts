import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EventTypes } from '@mlops/contracts';
import type { CloudEvent, CloudEventContext } from '@mlops/messaging';
import { ModelDegradedService } from './model-degraded.service';

const DEGRADED = EventTypes.ModelDegradedV1;

@Controller()
export class ModelDegradedMessageController {
  constructor(private readonly degraded: ModelDegradedService) {}

  @EventPattern(DEGRADED)
  async onDegraded(@Payload() event: CloudEvent<typeof DEGRADED>, @Ctx() context: CloudEventContext): Promise<void> {
    await this.degraded.onDegraded(event, context.manager);
  }
}
