import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { EventTypes } from '@mlops/contracts';
import { enqueueInOutbox, newEvent } from '@mlops/messaging';
import { POSTGRES } from '@mlops/storage';
import { uuidV5 } from '../../domain/event-ids';
import { PG_SCHEMA, SOURCE } from '../../tokens';
import { QualityTracker } from '../quality-tracker';

const QUALITY = EventTypes.DataQualityV1;

/** Closes the quality window and writes one mlops.data.quality.v1 per dataset to the outbox. */
@Injectable()
export class ReportQualityService {
  constructor(
    private readonly quality: QualityTracker,
    @Inject(POSTGRES) private readonly dataSource: DataSource,
  ) {}

  /** Returns how many reports were written (datasets that saw records in the window). */
  async flush(now = new Date()): Promise<number> {
    const reports = this.quality.closeWindow(now);
    if (reports.length === 0) return 0;
    const instance = `${process.pid}:${now.getTime()}`;
    await this.dataSource.transaction(async (manager) => {
      for (const report of reports) {
        const id = uuidV5(`${QUALITY}\u0000${report.dataset}\u0000${report.window.start}\u0000${instance}`);
        await enqueueInOutbox(
          manager,
          PG_SCHEMA,
          newEvent(QUALITY, report, { source: SOURCE, id, subject: report.dataset, time: now }),
        );
      }
    });
    return reports.length;
  }
}
