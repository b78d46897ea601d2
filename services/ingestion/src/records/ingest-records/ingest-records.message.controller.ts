import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EventTypes } from '@mlops/contracts';
import type { CloudEvent, CloudEventContext } from '@mlops/messaging';
import { IngestRecordsService } from './ingest-records.service';

const RECORD = EventTypes.DataRecordV1;

/** Records from Kafka: validated in the inbox transaction; the outcome leaves through the outbox. */
@Controller()
export class IngestRecordsMessageController {
  constructor(private readonly service: IngestRecordsService) {}

  @EventPattern(RECORD)
  async onRecord(@Payload() event: CloudEvent<typeof RECORD>, @Ctx() context: CloudEventContext): Promise<void> {
    await this.service.ingestEvent(event, context.manager);
  }
}
