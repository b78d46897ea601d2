import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EventTypes } from '@mlops/contracts';
import type { CloudEvent, CloudEventContext } from '@mlops/messaging';
import { ExportRangeService } from './export-range.service';

const REQUESTED = EventTypes.FeaturesExportRequestedV1;

@Controller()
export class ExportRequestedMessageController {
  constructor(private readonly exports: ExportRangeService) {}

  @EventPattern(REQUESTED)
  async onRequested(@Payload() event: CloudEvent<typeof REQUESTED>, @Ctx() context: CloudEventContext): Promise<void> {
    await this.exports.answer(event, context.manager);
  }
}
