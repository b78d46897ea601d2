import { Controller, Get } from '@nestjs/common';
import { Operation, ValidParams, errorResponse, respond } from '@mlops/http';
import { type LatestDatasetParams, latestDatasetParams } from '../../datasets/get-dataset/get-dataset.request';
import { type SubscriptionResponse, subscriptionResponse, subscriptionView } from '../subscription.view';
import { ListSubscriptionsService } from './list-subscriptions.service';

const subscriptionList = {
  type: 'object',
  required: ['subscriptions'],
  additionalProperties: false,
  properties: { subscriptions: { type: 'array', items: subscriptionResponse } },
} as const;

/** `GET /datasets/:name/subscriptions`: each subscription with its consumer group's positions per partition. */
@Controller('datasets')
export class ListSubscriptionsHttpController {
  constructor(private readonly service: ListSubscriptionsService) {}

  @Get(':name/subscriptions')
  @Operation({
    summary: "A dataset's topic subscriptions, with committed offset, high watermark and lag per partition",
    responses: {
      200: { description: 'every subscription of the dataset', schema: subscriptionList },
      404: errorResponse('the dataset is not registered', 'unknown_dataset'),
    },
  })
  async list(
    @ValidParams(latestDatasetParams) params: LatestDatasetParams,
  ): Promise<{ subscriptions: SubscriptionResponse[] }> {
    const found = respond(await this.service.list(params.name), { unknown_dataset: 404 });
    return {
      subscriptions: found.map(({ subscription, consumerGroup, positions, positionsError }) => ({
        ...subscriptionView(subscription, consumerGroup),
        ...(positions !== undefined ? { positions } : {}),
        ...(positionsError !== undefined ? { positionsError } : {}),
      })),
    };
  }
}
