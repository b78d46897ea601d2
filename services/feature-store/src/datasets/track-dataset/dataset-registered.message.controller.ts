import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EventTypes } from '@mlops/contracts';
import type { CloudEvent, CloudEventContext } from '@mlops/messaging';
import { CatalogStore } from '../../infrastructure/catalog-store';

const REGISTERED = EventTypes.DatasetRegisteredV1;

/** The dataset catalog follows ingestion's registrations (latest version per dataset). */
@Controller()
export class DatasetRegisteredMessageController {
  constructor(private readonly catalog: CatalogStore) {}

  @EventPattern(REGISTERED)
  async onRegistered(
    @Payload() event: CloudEvent<typeof REGISTERED>,
    @Ctx() context: CloudEventContext,
  ): Promise<void> {
    await this.catalog.upsertDataset(context.manager, event.data);
  }
}
