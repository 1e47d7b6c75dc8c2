/**
 * Writes and reads of the messages table that only operators need (seeding, set-ups of
 * benchmarks, diagnostics): kept out of the functions' repository, so no Lambda bundle
 * carries them.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchWriteCommand, GetCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { backoffDelay, cancellationCodes } from '../../functions/data/retry';
import { queryPages } from '../../functions/data/query-pages';
import {
  GROUP_SK_INDEX,
  buildGroupItem,
  buildGroupSummaryItems,
  buildMessageItem,
  buildPairItem,
  readStateAttributes,
  unreadOfUnmarked,
  keys,
  type MessageGroupSummaryItem,
  type PairItem,
  type Participant,
} from '../../functions/data/model';
import { WriteNotAppliedError } from '../../functions/errors';

export type TableAdmin = ReturnType<typeof createTableAdmin>;

/** Operator operations on the table `tableName`, over a client created by the caller. */
export function createTableAdmin(client: DynamoDBDocumentClient, tableName: string, newUuid: () => string = randomUUID) {
  /**
   * Writes a whole conversation (group, pair, both summaries, every message) in one
   * transaction guarded by the pair item, so it lands entirely or not at all. For seeding;
   * DynamoDB caps a transaction at 100 items, hence at most 96 messages.
   * @returns the new group's uuid, or undefined when the pair already has a group.
   */
  async function importConversation(
    members: [Participant, Participant],
    messages: { sender: Participant; text: string; createdAt: string }[],
  ): Promise<string | undefined> {
    if (messages.length === 0 || messages.length > 96) throw new RangeError('A conversation is imported with 1 to 96 messages');
    const groupUuid = newUuid();
    const items = messages
      .map((message) => buildMessageItem({ groupUuid, messageUuid: newUuid(), sender: message.sender, text: message.text, createdAt: message.createdAt }))
      .sort((a, b) => (a.sk < b.sk ? -1 : 1));
    const newest = items[items.length - 1]!;
    const oldest = items[0]!;
    // Nobody has read anything yet: each member has the other's messages unread.
    const unread = unreadOfUnmarked([members[0].user_uuid, members[1].user_uuid], items);
    const group = {
      ...buildGroupItem({ groupUuid, members, lastMessageSk: newest.sk, lastMessage: newest.message, createdAt: oldest.created_at }),
      ...readStateAttributes(members[0].user_uuid, { unread: unread[0] }),
      ...readStateAttributes(members[1].user_uuid, { unread: unread[1] }),
    };
    const summaries = buildGroupSummaryItems({
      groupUuid,
      members,
      lastMessageSk: newest.sk,
      lastMessage: newest.message,
      read: [{ unreadCount: unread[0] }, { unreadCount: unread[1] }],
    });
    const pair = buildPairItem(members[0].user_uuid, members[1].user_uuid, groupUuid, oldest.created_at);
    try {
      await client.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: tableName, Item: pair, ConditionExpression: 'attribute_not_exists(pk)' } },
            ...[group, ...summaries, ...items].map((Item) => ({ Put: { TableName: tableName, Item } })),
          ],
        }),
      );
    } catch (error) {
      if (cancellationCodes(error)[0] === 'ConditionalCheckFailed') return undefined;
      throw error;
    }
    return groupUuid;
  }

  /**
   * Puts items with BatchWriteItem, 25 at a time, retrying UnprocessedItems with backoff
   * (the original dropped them: defect 7).
   * @throws WriteNotAppliedError when items stay unprocessed after the retries.
   */
  async function putItems(items: Record<string, unknown>[], { attempts = 8, baseDelayMs = 50, maxDelayMs = 2000 } = {}): Promise<void> {
    for (let start = 0; start < items.length; start += 25) {
      let requests = items.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; requests.length > 0; attempt += 1) {
        if (attempt >= attempts) throw new WriteNotAppliedError(`${requests.length} items stayed unprocessed after ${attempts} attempts`);
        if (attempt > 0) await sleep(backoffDelay(attempt, baseDelayMs, maxDelayMs));
        const output = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
        requests = (output.UnprocessedItems?.[tableName] ?? []) as typeof requests;
      }
    }
  }

  /**
   * A conversation of two users, if they have one: the group of their pair item, or else of a
   * summary of `userA`'s that shows `userB` (a table written by the original has no pair
   * items). Reads the pair item, then `userA`'s summaries page by page.
   */
  async function findConversation(userA: string, userB: string): Promise<string | undefined> {
    const pair = await client.send(new GetCommand({ TableName: tableName, Key: keys.pair(userA, userB), ConsistentRead: true }));
    if (pair.Item !== undefined) return (pair.Item as PairItem).group_uuid;
    const pages = queryPages(client, {
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: 'user_uuid = :other',
      ExpressionAttributeValues: { ':pk': keys.groupSummaryPartition(userA), ':other': userB },
    });
    for await (const page of pages) {
      const summary = page[0] as MessageGroupSummaryItem | undefined;
      if (summary !== undefined) return summary.message_group_uuid;
    }
    return undefined;
  }

  /** The summaries of one group through the GSI (eventually consistent; diagnostics). */
  async function listSummariesOfGroup(groupUuid: string): Promise<MessageGroupSummaryItem[]> {
    const output = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: GROUP_SK_INDEX,
        KeyConditionExpression: 'message_group_uuid = :g',
        ExpressionAttributeValues: { ':g': groupUuid },
      }),
    );
    return (output.Items ?? []) as MessageGroupSummaryItem[];
  }

  return { importConversation, putItems, findConversation, listSummariesOfGroup };
}
