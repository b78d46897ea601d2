import { Controller, Delete, HttpCode, HttpStatus } from '@nestjs/common';
import { RequireRole } from '@mlops/auth';
import { Operation, ValidParams, errorResponse, respond } from '@mlops/http';
import { type SubscriptionParams, subscriptionParams } from '../subscription-params.request';
import { UnsubscribeTopicService } from './unsubscribe-topic.service';

/** `DELETE /datasets/:name/subscriptions/:topic`: 204, or 404 when there is no such subscription. */
@Controller('datasets')
export class UnsubscribeTopicHttpController {
  constructor(private readonly service: UnsubscribeTopicService) {}

  @Delete(':name/subscriptions/:topic')
  @RequireRole('data-steward')
  @HttpCode(HttpStatus.NO_CONTENT)
  @Operation({
    summary: 'Stop feeding a dataset from a topic',
    responses: {
      204: { description: 'unsubscribed: no message of the topic becomes a record any more' },
      404: errorResponse('the dataset is not subscribed to the topic', 'unknown_subscription'),
    },
  })
  async unsubscribe(@ValidParams(subscriptionParams) params: SubscriptionParams): Promise<void> {
    respond(await this.service.unsubscribe(params.name, params.topic), { unknown_subscription: 404 });
  }
}
