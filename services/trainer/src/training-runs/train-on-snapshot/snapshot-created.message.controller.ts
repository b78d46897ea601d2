import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EventTypes } from '@mlops/contracts';
import type { CloudEvent, CloudEventContext } from '@mlops/messaging';
import { TrainOnSnapshotService } from './train-on-snapshot.service';

const CREATED = EventTypes.DatasetSnapshotCreatedV1;

@Controller()
export class SnapshotCreatedMessageController {
  constructor(private readonly training: TrainOnSnapshotService) {}

  @EventPattern(CREATED)
  async onCreated(@Payload() event: CloudEvent<typeof CREATED>, @Ctx() context: CloudEventContext): Promise<void> {
    await this.training.accept(event, context.manager);
  }
}
