import { Injectable } from '@nestjs/common';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { SubscriptionStore } from '../../infrastructure/subscription-store';
import { TopicConsumers } from '../topic-consumers';

/** Ends a subscription: this replica stops its consumer at once, the others at their next poll. */
@Injectable()
export class UnsubscribeTopicService {
  constructor(
    private readonly subscriptions: SubscriptionStore,
    private readonly consumers: TopicConsumers,
  ) {}

  async unsubscribe(name: string, topic: string): Promise<Result<void, DomainError<'unknown_subscription'>>> {
    if (!(await this.subscriptions.delete(name, topic)))
      return err(domainError('unknown_subscription', `dataset "${name}" is not subscribed to "${topic}"`));
    await this.consumers.sync();
    return ok(undefined);
  }
}
