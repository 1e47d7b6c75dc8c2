/**
 * The WebSocket connections of users (`CONN#{user}` items, functions/data/model/connection.ts)
 * and what the push function needs besides: who is in a group.
 */
import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_TABLE_NAME, buildConnectionItem, isOpenConnection, keys, type ConnectionItem, type IsoTimestamp, type MessageGroupItem } from './model';
import { queryPages } from './query-pages';

export type ConnectionsRepository = ReturnType<typeof createConnectionsRepository>;

export function createConnectionsRepository(client: DynamoDBDocumentClient, options: { tableName?: string; clock?: () => number } = {}) {
  const tableName = options.tableName ?? DEFAULT_TABLE_NAME;
  const clock = options.clock ?? Date.now;

  return {
    async addConnection(userUuid: string, connectionId: string, connectedAt: IsoTimestamp, tokenExpiresAt?: number): Promise<ConnectionItem> {
      const item = buildConnectionItem({ userUuid, connectionId, connectedAt, ...(tokenExpiresAt === undefined ? {} : { tokenExpiresAt }) });
      await client.send(new PutCommand({ TableName: tableName, Item: item }));
      return item;
    },

    async removeConnection(userUuid: string, connectionId: string): Promise<void> {
      await client.send(new DeleteCommand({ TableName: tableName, Key: keys.connection(userUuid, connectionId) }));
    },

    /**
     * The user's connections that have not expired (DynamoDB's TTL deletes late). With
     * `removeExpired`, the expired ones found are deleted too (a failed delete is left to the TTL).
     */
    async connectionsOf(userUuid: string, options: { removeExpired?: boolean } = {}): Promise<ConnectionItem[]> {
      const items: ConnectionItem[] = [];
      const pages = queryPages<ConnectionItem>(client, {
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.connectionPartition(userUuid) },
      });
      for await (const page of pages) items.push(...page);
      const now = clock();
      if (options.removeExpired) {
        const expired = items.filter((item) => !isOpenConnection(item, now));
        await Promise.all(
          expired.map((item) =>
            client.send(new DeleteCommand({ TableName: tableName, Key: keys.connection(item.user_uuid, item.connection_id) })).catch(() => {}),
          ),
        );
      }
      return items.filter((item) => isOpenConnection(item, now));
    },

    /** The two members of a group (a group's members never change). */
    async membersOf(groupUuid: string): Promise<string[] | undefined> {
      const output = await client.send(new GetCommand({ TableName: tableName, Key: keys.group(groupUuid) }));
      return (output.Item as MessageGroupItem | undefined)?.member_uuids;
    },
  };
}
