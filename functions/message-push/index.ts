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
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { createConnectionsRepository, type ConnectionsRepository } from '../data/connections-repository';
import { groupUuidOfMessageKey, isMessageItem, toMessageView, type ConnectionItem } from '../data/model';
import type { MessagePush } from '../websocket/frames';
import { sharedDocumentClient } from '../clients/dynamodb';
import { functionConfig } from '../config/function-config';
import { logger } from '../observability/logger';
import { createConnectionPoster, websocketManagementUrlFromEnv, type ConnectionPoster } from '../clients/websocket-connections';

export interface MessagePushDeps {
  connections: () => ConnectionsRepository;
  post: () => ConnectionPoster;
  logger: Logger;
}

/** Groups' members never change: kept for the container's life, up to this many groups. */
const MEMBERS_CACHE_SIZE = 10_000;

/** The push of a stream record, or undefined for anything but a new message. */
function pushOf(record: DynamoDBRecord): MessagePush | undefined {
  if (record.eventName !== 'INSERT' || record.dynamodb?.NewImage === undefined) return undefined;
  const item = unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>);
  if (!isMessageItem(item)) return undefined;
  const groupUuid = groupUuidOfMessageKey(item.pk);
  if (groupUuid === undefined) return undefined;
  return { type: 'message', message_group_uuid: groupUuid, ...toMessageView(item) };
}

export function createMessagePushHandler(deps: MessagePushDeps) {
  const members = new Map<string, string[]>();

  async function membersOf(repository: ConnectionsRepository, groupUuid: string): Promise<string[] | undefined> {
    const cached = members.get(groupUuid);
    if (cached) return cached;
    const found = await repository.membersOf(groupUuid);
    if (found) {
      if (members.size >= MEMBERS_CACHE_SIZE) members.delete(members.keys().next().value!);
      members.set(groupUuid, found);
    }
    return found;
  }

  return async function pushMessages(event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> {
    deps.logger.resetKeys();
    deps.logger.addContext(context);
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
        const groupMembers = await membersOf(repository, push.message_group_uuid);
        if (groupMembers === undefined) {
          // A table of the original's not yet migrated: the summaries consumer reports these.
          tally.noGroup += 1;
          continue;
        }
        targets = (await Promise.all(groupMembers.map(connectionsOf))).flat().filter((connection) => !gone.has(connection.connection_id));
      } catch (error) {
        deps.logger.error('Could not read whom to push to; the rest of the batch is retried', { error: (error as Error).message, records: records.length - index });
        return { batchItemFailures: records.slice(index).map((failed) => ({ itemIdentifier: failed.dynamodb!.SequenceNumber! })) };
      }
      tally.messages += 1;
      const data = JSON.stringify(push);
      const outcomes = await Promise.all(targets.map(async (connection) => [connection, await post(connection.connection_id, data)] as const));
      for (const [connection, outcome] of outcomes) {
        tally[outcome] += 1;
        if (outcome !== 'gone') continue;
        gone.add(connection.connection_id);
        await repository.removeConnection(connection.user_uuid, connection.connection_id).catch((error: unknown) =>
          deps.logger.warn('Could not delete a gone connection (its TTL will)', { connectionId: connection.connection_id, error: (error as Error).message }));
      }
    }
    deps.logger.info('Pushed new messages', tally);
    return { batchItemFailures: [] };
  };
}

let poster: ConnectionPoster | undefined;

export const handler = createMessagePushHandler({
  connections: () => createConnectionsRepository(sharedDocumentClient(), { tableName: functionConfig().tableName }),
  post: () => (poster ??= createConnectionPoster(websocketManagementUrlFromEnv(), (connectionId, error) => logger.warn('Push to a connection failed', { connectionId, error: `${error.name}: ${error.message}` }))),
  logger,
});
