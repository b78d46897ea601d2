import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EventTypes } from '@mlops/contracts';
import { type CloudEvent, type CloudEventContext, PermanentHandlerError } from '@mlops/messaging';
import { IngestRecordEventService } from './ingest-record-event.service';

const RECORD = EventTypes.DataRecordV1;

/** Records from Kafka: validated in the inbox transaction; the outcome leaves through the outbox. */
@Controller()
export class IngestRecordsMessageController {
  constructor(private readonly service: IngestRecordEventService) {}

  @EventPattern(RECORD)
  async onRecord(@Payload() event: CloudEvent<typeof RECORD>, @Ctx() context: CloudEventContext): Promise<void> {
    const outcome = await this.service.ingest(event, context.manager);
    // Every failure the use case returns is one no redelivery can cure: dead-letter it; what it throws is retried.
    if (!outcome.ok) throw new PermanentHandlerError(`${outcome.error.kind}: ${outcome.error.message}`);
  }
}
