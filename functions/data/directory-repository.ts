/**
 * The user directory in the messages table (`data/model/directory.ts`): one GetItem per
 * lookup, read eventually consistent (0.5 RCU; an entry is a copy made at most a minute ago
 * anyway), and both entries of a user written after PostgreSQL answered a miss.
 */
import { BatchWriteCommand, GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { buildDirectoryItems, directoryUserOf, keys, nowIso, type DirectoryUser, type TableKey } from './model';

export interface DirectoryEntry {
  user: DirectoryUser;
  /** When the entry stops answering (epoch ms). */
  expiresAtMs: number;
}

export function createDirectoryRepository(client: DynamoDBDocumentClient, options: { tableName: string; clock?: () => number }) {
  const { tableName } = options;
  const clock = options.clock ?? Date.now;

  async function read(key: TableKey): Promise<DirectoryEntry | undefined> {
    const output = await client.send(new GetCommand({ TableName: tableName, Key: key }));
    return directoryUserOf(output.Item, clock());
  }

  return {
    bySub: (sub: string) => read(keys.userBySub(sub)),
    byHandle: (handle: string) => read(keys.userByHandle(handle)),
    /** Both entries of a user, in one request (a lost item is only a later miss: not retried). */
    async remember(user: DirectoryUser): Promise<void> {
      const items = buildDirectoryItems(user, nowIso(clock));
      await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: items.map((item) => ({ PutRequest: { Item: item } })) } }));
    },
  };
}
