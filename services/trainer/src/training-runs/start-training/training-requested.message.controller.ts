import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EventTypes } from '@mlops/contracts';
import type { CloudEvent, CloudEventContext } from '@mlops/messaging';
import { StartTrainingService } from './start-training.service';

const REQUESTED = EventTypes.TrainingRequestedV1;

@Controller()
export class TrainingRequestedMessageController {
  constructor(private readonly training: StartTrainingService) {}

  @EventPattern(REQUESTED)
  async onRequested(@Payload() event: CloudEvent<typeof REQUESTED>, @Ctx() context: CloudEventContext): Promise<void> {
    await this.training.start(event, context.manager);
  }
}
