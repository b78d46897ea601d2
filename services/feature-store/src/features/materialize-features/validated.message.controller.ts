import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EventTypes } from '@mlops/contracts';
import type { CloudEvent, CloudEventContext } from '@mlops/messaging';
import { AppendLabelService } from '../../labels/append-label.service';
import { MaterializeFeaturesService } from './materialize-features.service';

const VALIDATED = EventTypes.DataValidatedV1;

/** Validated records: features datasets feed the views over them, labels datasets the offline label history. */
@Controller()
export class ValidatedRecordsMessageController {
  constructor(
    private readonly features: MaterializeFeaturesService,
    private readonly labels: AppendLabelService,
  ) {}

  @EventPattern(VALIDATED)
  async onValidated(@Payload() event: CloudEvent<typeof VALIDATED>, @Ctx() context: CloudEventContext): Promise<void> {
    if (event.data.role === 'labels') await this.labels.append(event, context.manager);
    else await this.features.materialize(event, context.manager, context.handler, context.handler.transactionEvents);
  }
}
