import type { Admin, Kafka } from 'kafkajs';
import { EventTypes } from '@mlops/contracts';

const REGISTERED = EventTypes.DatasetRegisteredV1;

/**
 * Whether this service has consumed every dataset registration published so far: its consumer group's committed
 * offsets on mlops.dataset.registered.v1 against the topic's high watermarks. A dataset unknown while this is false
 * may just not have arrived yet (POST /feature-views right after the registration answers 503, not 404).
 */
export class RegistrationsLag {
  private admin: Admin | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
  ) {}

  async caughtUp(): Promise<boolean> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    const [ends, committed] = await Promise.all([
      this.admin.fetchTopicOffsets(REGISTERED),
      this.admin.fetchOffsets({ groupId: this.groupId, topics: [REGISTERED] }),
    ]);
    const committedOf = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, p.offset]));
    return ends.every((end) => {
      const offset = committedOf.get(end.partition);
      // Nothing committed: the group has consumed nothing of what is left (the low watermark) yet.
      const position = offset === undefined || offset === '-1' ? BigInt(end.low) : BigInt(offset);
      return position >= BigInt(end.high);
    });
  }

  /** Nest calls it at shutdown. */
  async onApplicationShutdown(): Promise<void> {
    await this.admin?.disconnect();
    this.admin = undefined;
  }
}
