import { Controller, HttpStatus, Put, Res } from '@nestjs/common';
import { RequireRole } from '@mlops/auth';
import { Operation, ValidBody, ValidParams, errorResponse, respond } from '@mlops/http';
import { type SubscriptionParams, subscriptionParams } from '../subscription-params.request';
import type { SubscriptionDraft } from '../subscription';
import { type SubscriptionResponse, subscriptionResponse, subscriptionView } from '../subscription.view';
import { consumerGroupOf } from '../subscription';
import { type SubscribeTopicRequest, subscribeTopicRequest } from './subscribe-topic.request';
import { SubscribeTopicService } from './subscribe-topic.service';

/** `PUT /datasets/:name/subscriptions/:topic`: 201 new, 200 updated or unchanged. */
@Controller('datasets')
export class SubscribeTopicHttpController {
  constructor(private readonly service: SubscribeTopicService) {}

  @Put(':name/subscriptions/:topic')
  @RequireRole('data-steward')
  @Operation({
    summary: 'Feed a dataset from a topic an upstream team owns (plain JSON or Debezium change events)',
    description:
      'Every replica of ingestion consumes the topic in the consumer group ingestion.sub.<dataset>.<topic>; each message becomes a record, validated or rejected like mlops.data.record.v1 events.',
    responses: {
      200: { description: 'the mapping was changed, or is unchanged', schema: subscriptionResponse },
      201: { description: 'the new subscription', schema: subscriptionResponse },
      400: errorResponse('the mapping does not fit the dataset or format', 'invalid_subscription'),
      404: errorResponse('no such dataset or topic', ['unknown_dataset', 'unknown_topic']),
      409: errorResponse('the consumer group still has members: try again', 'subscription_busy'),
    },
  })
  async subscribe(
    @ValidParams(subscriptionParams) params: SubscriptionParams,
    @ValidBody(subscribeTopicRequest) body: SubscribeTopicRequest,
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ): Promise<SubscriptionResponse> {
    // The request schema checked the shape; FromSchema does not narrow oneOf into the domain's unions.
    const { subscription, change } = respond(
      await this.service.subscribe(params.name, params.topic, body as SubscriptionDraft),
      { unknown_dataset: 404, unknown_topic: 404, invalid_subscription: 400, subscription_busy: 409 },
    );
    res.status(change === 'created' ? HttpStatus.CREATED : HttpStatus.OK);
    const view = subscriptionView(subscription, consumerGroupOf(subscription.dataset, subscription.topic));
    return change === 'unchanged' ? { ...view, unchanged: true } : view;
  }
}
