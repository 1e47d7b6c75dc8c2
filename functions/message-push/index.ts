/**
 * Real-time delivery: the second consumer of the messages table's stream (the first moves the
 * summaries). For each new message, in stream order, it posts
 * `{type: "message", message_group_uuid, uuid, display_name, handle, message, created_at}` to
 * every open WebSocket of both participants. Posts of one message go out in parallel, so one
 * slow or failed connection holds up no other; a gone connection (410) is deleted; a failed
 * post is logged, not retried (a retry of the batch would send the others a second time).
 * Only a failed read (the group, the connections) fails the record and those after it, which
 * the mapping then retries, in order.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { createConnectionsRepository, type ConnectionsRepository } from '../data/connections-repository';
import { toMessageView, type ConnectionItem } from '../data/model';
import { readStreamRecord } from '../data/stream-records';
import { TtlCache } from '../domain/cache';
import type { MessagePush } from '../websocket/frames';
import { sharedDocumentClient } from '../clients/dynamodb';
import { functionConfig } from '../config/function-config';
import { logger, withInvocationContext } from '../observability/logger';
import { createConnectionPoster, websocketManagementUrlFromEnv, type ConnectionPoster } from '../clients/websocket-connections';

export interface MessagePushDeps {
  connections: () => ConnectionsRepository;
  post: () => ConnectionPoster;
  logger: Logger;
}

/** Groups' members never change: kept for a day of the container's life, up to this many groups. */
const MEMBERS_CACHE = { ttlMs: 24 * 60 * 60 * 1000, maxEntries: 10_000 };

/** The push of a stream record, or undefined for anything but a new message. */
function pushOf(record: DynamoDBRecord): MessagePush | undefined {
  const reading = readStreamRecord(record);
  if (reading.kind !== 'new-message') return undefined;
  return { type: 'message', message_group_uuid: reading.groupUuid, ...toMessageView(reading.item) };
}

export function createMessagePushHandler(deps: MessagePushDeps) {
  const members = new TtlCache<string, readonly string[]>(MEMBERS_CACHE);

  return withInvocationContext(deps.logger, async function pushMessages(event: DynamoDBStreamEvent, _context: Context): Promise<DynamoDBBatchResponse> {
    const records = event.Records ?? [];
    const repository = deps.connections();
    const post = deps.post();
    // A user's connections, read once per batch: one Query per person, not per message.
    const connectionsByUser = new Map<string, Promise<ConnectionItem[]>>();
    const connectionsOf = (userUuid: string) => {
      let found = connectionsByUser.get(userUuid);
      if (!found) connectionsByUser.set(userUuid, (found = repository.connectionsOf(userUuid)));
      return found;
    };
    const gone = new Set<string>();
    const tally = { records: records.length, messages: 0, noGroup: 0, sent: 0, gone: 0, failed: 0 };

    for (const [index, record] of records.entries()) {
      const push = pushOf(record);
      if (push === undefined) continue;
      let targets: ConnectionItem[];
      try {
        const groupMembers = await members.getOrLoad(push.message_group_uuid, (groupUuid) => repository.membersOf(groupUuid));
        if (groupMembers === undefined) {
          // A table of the original's not yet migrated: the summaries consumer reports these.
          tally.noGroup += 1;
          continue;
        }
        targets = (await Promise.all(groupMembers.map(connectionsOf))).flat().filter((connection) => !gone.has(connection.connection_id));
      } catch (error) {
        deps.logger.error('Could not read whom to push to; the rest of the batch is retried', {
          error: (error as Error).message,
          records: records.length - index,
        });
        // Lambda retries from the lowest identifier; a record without one cannot be named.
        return {
          batchItemFailures: records
            .slice(index)
            .flatMap((failed) => (failed.dynamodb?.SequenceNumber ? [{ itemIdentifier: failed.dynamodb.SequenceNumber }] : [])),
        };
      }
      tally.messages += 1;
      const data = JSON.stringify(push);
      const outcomes = await Promise.all(targets.map(async (connection) => [connection, await post(connection.connection_id, data)] as const));
      for (const [connection, outcome] of outcomes) {
        tally[outcome] += 1;
        if (outcome !== 'gone') continue;
        gone.add(connection.connection_id);
        await repository
          .removeConnection(connection.user_uuid, connection.connection_id)
          .catch((error: unknown) =>
            deps.logger.warn('Could not delete a gone connection (its TTL will)', { connectionId: connection.connection_id, error: (error as Error).message }),
          );
      }
    }
    deps.logger.info('Pushed new messages', tally);
    return { batchItemFailures: [] };
  });
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
