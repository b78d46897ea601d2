import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { POSTGRES } from '@mlops/storage';
import { DatasetStore } from '../../infrastructure/dataset-store';
import { SubscriptionStore } from '../../infrastructure/subscription-store';
import {
  type InvalidSubscription,
  type Subscription,
  type SubscriptionDraft,
  checkSubscription,
  sameMapping,
} from '../subscription';
import { TopicConsumers } from '../topic-consumers';

export interface Subscribed {
  subscription: Subscription;
  /** created: a new subscription; updated: a new mapping; unchanged: the same mapping again. */
  change: 'created' | 'updated' | 'unchanged';
}

export type SubscribeError =
  DomainError<'unknown_dataset' | 'unknown_topic' | 'subscription_busy'> | InvalidSubscription;

/** Subscribes a dataset to an upstream topic, or changes the mapping of its subscription. */
@Injectable()
export class SubscribeTopicService {
  constructor(
    @Inject(POSTGRES) private readonly dataSource: DataSource,
    private readonly datasets: DatasetStore,
    private readonly subscriptions: SubscriptionStore,
    private readonly consumers: TopicConsumers,
  ) {}

  async subscribe(
    name: string,
    topic: string,
    draft: SubscriptionDraft,
    now = new Date(),
  ): Promise<Result<Subscribed, SubscribeError>> {
    const dataset = await this.datasets.latest(name);
    if (!dataset) return err(domainError('unknown_dataset', `dataset "${name}" is not registered`));
    const checked = checkSubscription(dataset, topic, draft);
    if (!checked.ok) return checked;
    if (!(await this.consumers.topicExists(topic)))
      return err(domainError('unknown_topic', `topic "${topic}" does not exist (ingestion creates no upstream topic)`));
    const mapping = checked.value;

    const result = await this.dataSource.transaction(async (manager): Promise<Result<Subscribed, SubscribeError>> => {
      const previous = await this.subscriptions.find(name, topic, manager);
      if (previous && sameMapping(previous, mapping)) return ok({ subscription: previous, change: 'unchanged' });
      const subscription = await this.subscriptions.upsert(
        manager,
        { dataset: name, topic, ...mapping, start: previous?.start ?? mapping.start },
        now,
      );
      if (!previous) {
        // Before the row commits: where the new group starts is decided here, not by whichever replica joins first.
        try {
          await this.consumers.positionNewGroup(name, topic, mapping.start);
        } catch (error) {
          return err(
            domainError(
              'subscription_busy',
              `the consumer group of "${name}" on "${topic}" cannot be positioned (${(error as Error).message}); a replica may still be leaving it: try again in a few seconds`,
            ),
          );
        }
      }
      return ok({ subscription, change: previous ? 'updated' : 'created' });
    });
    if (result.ok && result.value.change !== 'unchanged') await this.consumers.sync();
    return result;
  }
}
