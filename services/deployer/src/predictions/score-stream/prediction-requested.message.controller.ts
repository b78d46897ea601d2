import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EventTypes } from '@mlops/contracts';
import type { CloudEvent, CloudEventContext } from '@mlops/messaging';
import { ScoreStreamService } from './score-stream.service';

const REQUESTED = EventTypes.PredictionRequestedV1;

@Controller()
export class PredictionRequestedMessageController {
  constructor(private readonly scoring: ScoreStreamService) {}

  @EventPattern(REQUESTED)
  async onRequested(@Payload() event: CloudEvent<typeof REQUESTED>, @Ctx() context: CloudEventContext): Promise<void> {
    await this.scoring.score(event, context.manager);
  }
}
