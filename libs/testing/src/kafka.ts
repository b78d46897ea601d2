import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { type TopicStart, setGroupOffsets } from '@mlops/config';
import { eventually, kafkaBrokers, kafkaTestSecurity, uid } from './wait';

/** The sockets each test client has open (kafkajs's own socket factory, plus this bookkeeping). */
const openSockets = new WeakMap<Kafka, Set<net.Socket>>();

/** A client of the stack's broker; quiet, and patient enough to ride out a broker restart. */
export function testKafka(clientId: string): Kafka {
  const sockets = new Set<net.Socket>();
  const kafka = new Kafka({
    clientId,
    brokers: kafkaBrokers(),
    ...kafkaTestSecurity(),
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 200, retries: 12, maxRetryTime: 5_000 },
    socketFactory: ({ host, port, ssl, onConnect }) => {
      const socket = ssl
        ? tls.connect({ host, port, servername: host, ...ssl }, onConnect)
        : net.connect({ host, port }, onConnect);
      socket.setKeepAlive(true, 60_000);
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      return socket;
    },
  });
  openSockets.set(kafka, sockets);
  return kafka;
}

/**
 * Call once every producer, consumer and admin of a `testKafka` client is disconnected: ends the sockets
 * kafkajs (2.2.4) still holds and returns how many there were. After a broker restart a consumer can keep
 * one: its ConsumerGroup keeps using the group coordinator Broker it joined through (`this.coordinator`,
 * for heartbeats and LeaveGroup) after `BrokerPool.removeBroker` dropped that Broker on a closed connection
 * during a fetch; the next heartbeat reconnects it, and `consumer.disconnect()` (→ `BrokerPool.disconnect`)
 * no longer knows it. Ending the socket lets kafkajs close that connection its own way (its `end` handler
 * disconnects it and stops its request-timeout timer); nothing else keeps the process alive.
 */
export async function endLeftoverSockets(kafka: Kafka, timeoutMs = 5_000): Promise<number> {
  const left = [...(openSockets.get(kafka) ?? [])].filter((s) => !s.destroyed && !s.writableEnded);
  await Promise.all(
    left.map(async (socket) => {
      const closed = once(socket, 'close');
      socket.end();
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    }),
  );
  return left.length;
}

/** The first value of a message header as a string. */
export function header(message: KafkaMessage, name: string): string | undefined {
  const value = message.headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/**
 * Messages older than the test process are never a test's own: readers start here rather than at the
 * beginning of topics that a long-lived local stack (and its benchmark runs) may have filled with millions.
 * A minute of slack covers producers' clocks.
 */
export const TEST_EPOCH_MS = Date.now() - 60_000;

/** Positions a new consumer group on each topic at the first message at or after `sinceMs`; the offsets it set. */
export async function positionGroupAt(
  kafka: Kafka,
  groupId: string,
  topics: readonly string[],
  sinceMs = TEST_EPOCH_MS,
): Promise<TopicStart[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const starts = await Promise.all(
      topics.map(async (topic) => ({
        topic,
        partitions: (await admin.fetchTopicOffsetsByTimestamp(topic, sinceMs)).map((o) => ({
          partition: o.partition,
          offset: o.offset,
        })),
      })),
    );
    await setGroupOffsets(kafka, groupId, starts);
    return starts;
  } finally {
    await admin.disconnect();
  }
}

/** Reads a topic from the test process's start (TEST_EPOCH_MS) until `until` says the matching messages are enough. */
export function readTopic(
  kafka: Kafka,
  topic: string,
  filter: (message: KafkaMessage) => boolean,
  until: (matched: KafkaMessage[]) => boolean,
  timeoutMs = 60_000,
): Promise<KafkaMessage[]> {
  return readTopicAs(kafka, topic, (message) => message, filter, until, timeoutMs);
}

/** `readTopic` on messages decoded once each, for tests that look at their own view of an event. */
export async function readTopicAs<T>(
  kafka: Kafka,
  topic: string,
  decode: (message: KafkaMessage) => T,
  filter: (item: T) => boolean,
  until: (matched: T[]) => boolean,
  timeoutMs = 60_000,
): Promise<T[]> {
  const groupId = uid('reader');
  await positionGroupAt(kafka, groupId, [topic]);
  // A short fetch wait: disconnect waits for the fetch in flight.
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  const matched: T[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const item = decode(message);
        if (filter(item)) matched.push(item);
      },
    });
    await eventually(() => until(matched), `messages on ${topic}`, timeoutMs);
    return matched;
  } finally {
    await consumer.disconnect();
  }
}
