import type { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { type CloudEvent, enqueueInOutbox } from '@mlops/messaging';
import { PG_SCHEMA } from '../tokens';

/** Writes an event to the outbox (a few tries if Postgres blips); the platform's relay sends it. */
export async function announce(dataSource: DataSource, logger: Logger, event: CloudEvent): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await dataSource.transaction((manager) => enqueueInOutbox(manager, PG_SCHEMA, event));
      return;
    } catch (error) {
      if (attempt >= 5) {
        logger.error(`${event.type} for ${event.partitionkey} not announced: ${(error as Error).message}`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}
