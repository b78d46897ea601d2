import { Injectable } from '@nestjs/common';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { DatasetStore } from '../../infrastructure/dataset-store';
import { SubscriptionStore } from '../../infrastructure/subscription-store';
import { type Subscription, consumerGroupOf } from '../subscription';
import { type PartitionPosition, TopicConsumers } from '../topic-consumers';

export interface SubscriptionWithPositions {
  subscription: Subscription;
  consumerGroup: string;
  positions: PartitionPosition[] | undefined;
  /** Why the positions could not be read. */
  positionsError: string | undefined;
}

/** A dataset's subscriptions with the positions of their consumer groups. */
@Injectable()
export class ListSubscriptionsService {
  constructor(
    private readonly datasets: DatasetStore,
    private readonly subscriptions: SubscriptionStore,
    private readonly consumers: TopicConsumers,
  ) {}

  async list(name: string): Promise<Result<SubscriptionWithPositions[], DomainError<'unknown_dataset'>>> {
    if (!(await this.datasets.latest(name)))
      return err(domainError('unknown_dataset', `dataset "${name}" is not registered`));
    const subscriptions = await this.subscriptions.ofDataset(name);
    return ok(
      await Promise.all(
        subscriptions.map(async (subscription) => {
          const consumerGroup = consumerGroupOf(subscription.dataset, subscription.topic);
          try {
            const positions = await this.consumers.positions(subscription.dataset, subscription.topic);
            return { subscription, consumerGroup, positions, positionsError: undefined };
          } catch (error) {
            return { subscription, consumerGroup, positions: undefined, positionsError: (error as Error).message };
          }
        }),
      ),
    );
  }
}
