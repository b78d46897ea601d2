import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { EventTypes, type TrainingRequestedV1 } from '@mlops/contracts';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { enqueueInOutbox, newEvent } from '@mlops/messaging';
import { POSTGRES } from '@mlops/storage';
import { PG_SCHEMA, SOURCE } from '../../tokens';
import type { RequestTrainingRequest } from './request-training.request';

/** A training request from a person: the same event as any other requester sends, through the outbox. */
@Injectable()
export class RequestTrainingService {
  constructor(@Inject(POSTGRES) private readonly dataSource: DataSource) {}

  async request(
    body: RequestTrainingRequest,
    requestedBy: string,
    now = new Date(),
  ): Promise<Result<TrainingRequestedV1, DomainError<'invalid_window'>>> {
    if (!(Date.parse(body.trainingWindow.start) < Date.parse(body.trainingWindow.end))) {
      return err(domainError('invalid_window', 'trainingWindow.start must be before trainingWindow.end'));
    }
    const { search, sliceBy, ...rest } = body;
    const data: TrainingRequestedV1 = {
      ...rest,
      // The request schema types lists as readonly; the event carries plain copies.
      ...(search ? { search: structuredClone(search) as NonNullable<TrainingRequestedV1['search']> } : {}),
      ...(sliceBy ? { sliceBy: [...sliceBy] } : {}),
      trainingRunId: body.trainingRunId ?? randomUUID(),
      reason: body.reason ?? { trigger: 'manual' },
      requestedBy,
      requestedAt: now.toISOString(),
    };
    await this.dataSource.transaction((manager) =>
      enqueueInOutbox(
        manager,
        PG_SCHEMA,
        newEvent(EventTypes.TrainingRequestedV1, data, { source: SOURCE, subject: data.trainingRunId }),
      ),
    );
    return ok(data);
  }
}
