import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EventTypes } from '@mlops/contracts';
import type { CloudEvent, CloudEventContext } from '@mlops/messaging';
import { RegisterTrainedService } from './register-trained.service';

const TRAINED = EventTypes.ModelTrainedV1;

@Controller()
export class ModelTrainedMessageController {
  constructor(private readonly registration: RegisterTrainedService) {}

  @EventPattern(TRAINED)
  async onTrained(@Payload() event: CloudEvent<typeof TRAINED>, @Ctx() context: CloudEventContext): Promise<void> {
    await this.registration.register(event, context.manager);
  }
}
