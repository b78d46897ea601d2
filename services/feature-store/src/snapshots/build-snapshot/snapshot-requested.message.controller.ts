import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EventTypes } from '@mlops/contracts';
import type { CloudEvent, CloudEventContext } from '@mlops/messaging';
import { BuildSnapshotService } from './build-snapshot.service';

const REQUESTED = EventTypes.DatasetSnapshotRequestedV1;

@Controller()
export class SnapshotRequestedMessageController {
  constructor(private readonly snapshots: BuildSnapshotService) {}

  @EventPattern(REQUESTED)
  async onRequested(@Payload() event: CloudEvent<typeof REQUESTED>, @Ctx() context: CloudEventContext): Promise<void> {
    await this.snapshots.answer(event, context.manager);
  }
}
