import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EventTypes } from '@mlops/contracts';
import { type CloudEvent, type CloudEventContext, PermanentHandlerError } from '@mlops/messaging';
import { RegisterTrainedService } from './register-trained.service';

const TRAINED = EventTypes.ModelTrainedV1;

@Controller()
export class ModelTrainedMessageController {
  constructor(private readonly registration: RegisterTrainedService) {}

  @EventPattern(TRAINED)
  async onTrained(@Payload() event: CloudEvent<typeof TRAINED>, @Ctx() context: CloudEventContext): Promise<void> {
    const outcome = await this.registration.register(event, context.manager);
    if (!outcome.registered && outcome.refused !== undefined) throw new PermanentHandlerError(outcome.refused);
  }
}
