import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EventTypes } from '@mlops/contracts';
import type { CloudEvent, CloudEventContext } from '@mlops/messaging';
import { TrackChampionService } from './track-champion.service';

const PROMOTED = EventTypes.ModelPromotedV1;

@Controller()
export class ModelPromotedMessageController {
  constructor(private readonly champions: TrackChampionService) {}

  @EventPattern(PROMOTED)
  async onPromoted(@Payload() event: CloudEvent<typeof PROMOTED>, @Ctx() context: CloudEventContext): Promise<void> {
    await this.champions.record(event, context.manager);
  }
}
