/**
 * The WebSocket connections of users (`CONN#{user}` items, functions/data/model/connection.ts)
 * and what the push function needs besides: who is in a group.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_TABLE_NAME, buildConnectionItem, isOpenConnection, keys, type ConnectionItem, type IsoTimestamp, type MessageGroupItem } from './model';
import { queryPages } from './query-pages';

export type ConnectionsRepository = ReturnType<typeof createConnectionsRepository>;

/**
 * What {@link ConnectionsRepository.takeTypingTurn} found: the connection is the member's and
 * may forward now; it is the member's but forwarded less than the interval ago; or it is not an
 * open connection of the member's.
 */
export type TypingTurn = 'allowed' | 'too-soon' | 'not-theirs';

export function createConnectionsRepository(client: DynamoDBDocumentClient, options: { tableName?: string; clock?: () => number } = {}) {
  const tableName = options.tableName ?? DEFAULT_TABLE_NAME;
  const clock = options.clock ?? Date.now;
  const group = async (groupUuid: string) =>
    (await client.send(new GetCommand({ TableName: tableName, Key: keys.group(groupUuid) }))).Item as MessageGroupItem | undefined;

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

    /**
     * For a typing frame: whether `connectionId` is an open connection of `memberUuid`'s, and if
     * so whether it forwarded one less than `intervalMs` ago; one conditional UpdateItem that
     * records the turn when it is allowed (1 WCU, allowed or not). The connection id comes from
     * API Gateway, never from the client, so finding it under a member proves who sent the frame.
     */
    async takeTypingTurn(memberUuid: string, connectionId: string, intervalMs: number): Promise<TypingTurn> {
      const now = clock();
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keys.connection(memberUuid, connectionId),
            UpdateExpression: 'SET typing_at = :now',
            ConditionExpression: 'attribute_exists(pk) AND expires_at > :nowSeconds AND (attribute_not_exists(typing_at) OR typing_at <= :since)',
            ExpressionAttributeValues: { ':now': now, ':nowSeconds': Math.floor(now / 1000), ':since': now - intervalMs },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return 'allowed';
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const item = error.Item as { expires_at?: { N?: string } } | undefined;
        return item !== undefined && Number(item.expires_at?.N) * 1000 > now ? 'too-soon' : 'not-theirs';
      }
    },

    /** The two members of a group (a group's members never change). */
    async membersOf(groupUuid: string): Promise<string[] | undefined> {
      return (await group(groupUuid))?.member_uuids;
    },

    /** The two members of a group with their snapshots (handle, display name), in the group's order. */
    async participantsOf(groupUuid: string): Promise<MessageGroupItem['members'] | undefined> {
      return (await group(groupUuid))?.members;
    },
  };
}
