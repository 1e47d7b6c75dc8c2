/**
 * Real-time delivery: the second consumer of the messages table's stream (the first moves the
 * summaries). For each new message, in stream order, it posts
 * `{type: "message", message_group_uuid, uuid, display_name, handle, message, created_at}` to
 * every open WebSocket of both participants; for each read receipt (mark-read's `RECEIPT#`
 * item), `{type: "read", message_group_uuid, handle, read_up_to, read_at}`, likewise. Each connection gets its messages in order;
 * connections are served a bounded number at a time, taking turns by person, so one slow
 * connection, or one person's many, holds up nobody else for long; a gone connection (410) is
 * deleted, and so is one whose token has expired; a failed post is logged, not retried (a
 * retry of the batch would send the others a second time).
 * Only a failed read (the group, the connections) fails the record and those after it, which
 * the mapping then retries, in order.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { createConnectionsRepository, type ConnectionsRepository } from '../data/connections-repository';
import { toMessageView, type ConnectionItem } from '../data/model';
import { readReceiptRecord, readStreamRecord } from '../data/stream-records';
import { TtlCache } from '../domain/cache';
import type { MessagePush, ReadReceiptPush } from '../websocket/frames';
import { sharedDocumentClient } from '../clients/dynamodb';
import { functionConfig } from '../config/function-config';
import { logger, withInvocationContext } from '../observability/logger';
import { BUSINESS_METRICS, count, publishingMetrics } from '../observability/metrics';
import { createConnectionPoster, websocketManagementUrlFromEnv, type ConnectionPoster } from '../clients/websocket-connections';

export interface MessagePushDeps {
  connections: () => ConnectionsRepository;
  post: () => ConnectionPoster;
  logger: Logger;
}

/** Groups' members never change: kept for a day of the container's life, up to this many groups. */
const MEMBERS_CACHE = { ttlMs: 24 * 60 * 60 * 1000, maxEntries: 10_000 };

/**
 * The push of a stream record, with the group's members when the record says who they are (a
 * receipt does; a message's come from the group item), or undefined for anything else.
 */
function pushOf(record: DynamoDBRecord): { frame: MessagePush | ReadReceiptPush; memberUuids?: readonly string[] } | undefined {
  const reading = readStreamRecord(record);
  if (reading.kind === 'new-message') return { frame: { type: 'message', message_group_uuid: reading.groupUuid, ...toMessageView(reading.item) } };
  const receipt = readReceiptRecord(record);
  if (receipt === undefined) return undefined;
  return {
    frame: { type: 'read', message_group_uuid: receipt.group_uuid, handle: receipt.reader_handle, read_up_to: receipt.read_up_to, read_at: receipt.read_at },
    memberUuids: receipt.member_uuids,
  };
}

/**
 * Posts in flight at once, across all connections of a batch. Each connection gets its frames
 * one after another (in stream order); connections take turns by person (everyone's first
 * connection, then everyone's second...), so one person's many tabs cannot hold up another
 * person's push by more than a round of posts.
 */
const MAX_CONCURRENT_POSTS = 16;

/** The connections, ordered so that each person's come in turn with everyone else's. */
function takingTurns(queues: Iterable<ConnectionQueue>): ConnectionQueue[] {
  const byUser = new Map<string, ConnectionQueue[]>();
  for (const queue of queues) byUser.set(queue.connection.user_uuid, [...(byUser.get(queue.connection.user_uuid) ?? []), queue]);
  const lists = [...byUser.values()];
  const rounds = Math.max(0, ...lists.map((list) => list.length));
  const ordered: ConnectionQueue[] = [];
  for (let round = 0; round < rounds; round += 1) for (const list of lists) if (list[round]) ordered.push(list[round]!);
  return ordered;
}

/** What one connection is sent in a batch, in order. */
interface ConnectionQueue {
  connection: ConnectionItem;
  frames: string[];
}

export function createMessagePushHandler(deps: MessagePushDeps) {
  const members = new TtlCache<string, readonly string[]>(MEMBERS_CACHE);

  return withInvocationContext(
    deps.logger,
    publishingMetrics(async function pushMessages(event: DynamoDBStreamEvent, _context: Context): Promise<DynamoDBBatchResponse> {
      const records = event.Records ?? [];
      const repository = deps.connections();
      // A user's connections, read once per batch: one Query per person, not per message. Expired ones (their token ended) are deleted on the way.
      const connectionsByUser = new Map<string, Promise<ConnectionItem[]>>();
      const connectionsOf = (userUuid: string) => {
        let found = connectionsByUser.get(userUuid);
        if (!found) connectionsByUser.set(userUuid, (found = repository.connectionsOf(userUuid, { removeExpired: true })));
        return found;
      };
      const tally = { records: records.length, messages: 0, receipts: 0, noGroup: 0, sent: 0, gone: 0, failed: 0 };
      const queues = new Map<string, ConnectionQueue>();
      let failedFrom: number | undefined;

      // First whom each message goes to, in stream order; a failed read stops here, and the
      // messages before it are still delivered.
      for (const [index, record] of records.entries()) {
        const push = pushOf(record);
        if (push === undefined) continue;
        let targets: ConnectionItem[];
        try {
          const groupMembers = push.memberUuids ?? (await members.getOrLoad(push.frame.message_group_uuid, (groupUuid) => repository.membersOf(groupUuid)));
          if (groupMembers === undefined) {
            // A table of the original's not yet migrated: the summaries consumer reports these.
            tally.noGroup += 1;
            continue;
          }
          targets = (await Promise.all(groupMembers.map(connectionsOf))).flat();
        } catch (error) {
          deps.logger.error('Could not read whom to push to; the rest of the batch is retried', {
            error: (error as Error).message,
            records: records.length - index,
          });
          failedFrom = index;
          break;
        }
        tally[push.frame.type === 'message' ? 'messages' : 'receipts'] += 1;
        const frame = JSON.stringify(push.frame);
        for (const connection of targets) {
          const queue = queues.get(connection.connection_id) ?? { connection, frames: [] };
          queue.frames.push(frame);
          queues.set(connection.connection_id, queue);
        }
      }

      // Then the frames: each connection's in order, the connections taking turns by person.
      await deliver(takingTurns(queues.values()), deps.post(), async (queue, outcome) => {
        tally[outcome] += 1;
        if (outcome !== 'gone') return;
        await repository.removeConnection(queue.connection.user_uuid, queue.connection.connection_id).catch((error: unknown) =>
          deps.logger.warn('Could not delete a gone connection (its TTL will)', {
            connectionId: queue.connection.connection_id,
            error: (error as Error).message,
          }),
        );
      });
      deps.logger.info('Pushed new messages', tally);
      count(BUSINESS_METRICS.pushesSent, tally.sent);
      count(BUSINESS_METRICS.pushesGone, tally.gone);
      count(BUSINESS_METRICS.pushesFailed, tally.failed);
      if (failedFrom === undefined) return { batchItemFailures: [] };
      // Lambda retries from the lowest identifier; a record without one cannot be named.
      return {
        batchItemFailures: records
          .slice(failedFrom)
          .flatMap((failed) => (failed.dynamodb?.SequenceNumber ? [{ itemIdentifier: failed.dynamodb.SequenceNumber }] : [])),
      };
    }),
  );
}

/** Sends each queue's frames in order, {@link MAX_CONCURRENT_POSTS} connections at a time; a gone connection gets nothing more. */
async function deliver(
  queues: ConnectionQueue[],
  post: ConnectionPoster,
  onOutcome: (queue: ConnectionQueue, outcome: 'sent' | 'gone' | 'failed') => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let queue = queues[next++]; queue !== undefined; queue = queues[next++]) {
      for (const frame of queue.frames) {
        const outcome = await post(queue.connection.connection_id, frame);
        await onOutcome(queue, outcome);
        if (outcome === 'gone') break;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(MAX_CONCURRENT_POSTS, queues.length) }, worker));
}

let poster: ConnectionPoster | undefined;

export const handler = createMessagePushHandler({
  connections: () => createConnectionsRepository(sharedDocumentClient(), { tableName: functionConfig().tableName }),
  post: () =>
    (poster ??= createConnectionPoster(websocketManagementUrlFromEnv(), (connectionId, error) =>
      logger.warn('Push to a connection failed', { connectionId, error: `${error.name}: ${error.message}` }),
    )),
  logger,
});
