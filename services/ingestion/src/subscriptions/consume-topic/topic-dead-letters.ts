import { Injectable, Logger } from '@nestjs/common';
import { EventTypes } from '@mlops/contracts';
import { EventProducer, MessagingMetrics, describeFailure, encodeEvent, sendDeadLetter } from '@mlops/messaging';
import { RecordDeadLetterRedaction } from '../../records/ingest-records/record-dead-letters';
import { type Subscription, type TopicMessage, consumerGroupOf } from '../subscription';
import { IngestTopicMessageService, type TopicPosition } from './ingest-topic-message.service';

/**
 * Dead letters of topic subscriptions, all on mlops.data.record.v1.dlq (an upstream topic has no dead-letter topic
 * of ours, and a redrive must not publish into a topic other teams read). A message that maps to a record is
 * dead-lettered as the record event it became, redacted like every record dead letter, so `npm run dlq -- redrive
 * mlops.data.record.v1` runs the record use case on it under the same event id. Any other message keeps only its
 * headers (`dlq_redacted: withheld`, `dlq_original_topic`: the upstream topic, which a redrive skips).
 * Every one says where it came from: `dlq_subscription` (the group) and `dlq_source` (topic[partition]@offset).
 */
@Injectable()
export class TopicDeadLetters {
  private readonly logger = new Logger('ingestion:subscriptions');

  constructor(
    private readonly producer: EventProducer,
    private readonly metrics: MessagingMetrics,
    private readonly messages: IngestTopicMessageService,
    private readonly redaction: RecordDeadLetterRedaction,
  ) {}

  async send(
    subscription: Subscription,
    position: TopicPosition,
    message: TopicMessage & { timestamp: string },
    reason: string,
    failure: unknown,
    attempts: number,
  ): Promise<void> {
    const consumerName = consumerGroupOf(subscription.dataset, subscription.topic);
    const event = await this.messages.recordEventFor(subscription, position, message).catch(() => undefined);
    const source = {
      dlq_subscription: consumerName,
      dlq_source: `${position.topic}[${position.partition}]@${position.offset}`,
    };
    const encoded = event ? encodeEvent(event) : undefined;
    await sendDeadLetter({
      producer: this.producer,
      metrics: this.metrics,
      consumerName,
      topic: EventTypes.DataRecordV1,
      partition: position.partition,
      message: {
        key: encoded?.key ?? message.key,
        value: encoded?.value ?? null,
        headers: encoded?.headers ?? {},
        offset: position.offset,
        timestamp: message.timestamp,
      },
      reason,
      error: describeFailure(failure),
      attempts,
      redactor: event ? (value) => this.redaction.redact(value) : undefined,
      extraHeaders: event ? source : { ...source, dlq_redacted: 'withheld', dlq_original_topic: position.topic },
      logger: this.logger,
    });
  }
}
