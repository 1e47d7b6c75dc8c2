/**
 * The original Cruddur messaging's DynamoDB access (docs/defects.md, "Its access patterns",
 * A to E), ported from its public code to serve as the benchmarks' baseline.
 *
 * A faithful port, defects included, because the point is what the original cost: no
 * membership read, no transactions, a plain BatchWriteItem for a new group whose
 * `UnprocessedItems` are ignored (defect 7), `sk = created_at` with no uuid (defect 3),
 * and a stream consumer that deletes and puts each summary separately (defect 2).
 *
 * Two deliberate departures, both in the baseline's favour or neutral:
 * - The stream consumer handles every record of the batch, where the original read only
 *   `Records[0]` (defect 1); otherwise it would do a hundredth of the work on a batch of
 *   100 and a throughput comparison would be meaningless. It still handles each record on
 *   its own: no coalescing.
 * - A and B query the whole partition without the original's `begins_with(sk, year)`
 *   (defect 4). On this year's data the filter selects the same items, so the cost is the same.
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, waitUntilTableExists, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DeleteCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { GROUP_SK_INDEX, KeyPrefix, type MessageGroupSummaryItem, type Participant } from '../../functions/data/model';

/** The original's page size for both lists. */
const ORIGINAL_PAGE_SIZE = 20;

/** A group summary as the original wrote it: no `last_message_at`, the `sk` is the time itself. */
type OriginalGroupSummaryItem = Omit<MessageGroupSummaryItem, 'last_message_at'>;

/**
 * Python's `datetime.now(timezone.utc).astimezone().isoformat()` on a UTC host, which is
 * what the original used as `sk`: microseconds and `+00:00` (JavaScript has milliseconds,
 * so the last three digits are zeros). The same length as the original's keys, so the
 * same item sizes.
 */
function pythonIsoNow(): string {
  return new Date().toISOString().replace('Z', '000+00:00');
}

/**
 * Python's `datetime.isoformat()` of an instant: microseconds (omitted when they are 0, as
 * Python does) and `+00:00`, or no offset at all for the naive timestamps of a later branch.
 */
export function pythonIsoFormat(epochMs: number, micros = 0, form: 'utc' | 'naive' = 'utc'): string {
  const base = new Date(epochMs).toISOString().slice(0, 19);
  const fraction = (epochMs % 1000) * 1000 + micros;
  return `${base}${fraction === 0 ? '' : `.${String(fraction).padStart(6, '0')}`}${form === 'utc' ? '+00:00' : ''}`;
}

export interface OriginalOptions {
  /** The timestamp each write takes as its key (default: now, as the original's `datetime.now(timezone.utc).isoformat()`). */
  timestamp?: () => string;
}

/**
 * The original's `schema-load`: the table with its GSI, PROVISIONED 5/5, and no stream (it was
 * enabled by hand or by Terraform).
 */
export async function createOriginalTable(client: DynamoDBDocumentClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [
        { AttributeName: 'message_group_uuid', AttributeType: 'S' },
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: GROUP_SK_INDEX,
          KeySchema: [
            { AttributeName: 'message_group_uuid', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
          ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
        },
      ],
      BillingMode: 'PROVISIONED',
      ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
    }),
  );
  await waitUntilTableExists({ client: client as unknown as DynamoDBClient, maxWaitTime: 60 }, { TableName: tableName });
}

/** The original's access patterns over one table. */
export function createOriginalMessages(client: DynamoDBDocumentClient, tableName: string, options: OriginalOptions = {}) {
  const timestamp = options.timestamp ?? pythonIsoNow;
  async function queryNewestFirst(pk: string) {
    const output = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ScanIndexForward: false,
        Limit: ORIGINAL_PAGE_SIZE,
      }),
    );
    return output.Items ?? [];
  }

  /** A: a group's latest 20 messages, reversed so the oldest comes first. */
  async function listMessages(groupUuid: string): Promise<Record<string, unknown>[]> {
    return (await queryNewestFirst(`${KeyPrefix.message}${groupUuid}`)).reverse();
  }

  /** B: a user's latest 20 conversations, newest first. */
  async function listMessageGroups(ownerUuid: string): Promise<Record<string, unknown>[]> {
    return queryNewestFirst(`${KeyPrefix.groupSummary}${ownerUuid}`);
  }

  /** C: one PutItem of the message, unconditional. */
  async function createMessage(groupUuid: string, sender: Participant, text: string): Promise<void> {
    await client.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: `${KeyPrefix.message}${groupUuid}`,
          sk: timestamp(),
          message: text,
          message_uuid: randomUUID(),
          user_uuid: sender.user_uuid,
          user_display_name: sender.display_name,
          user_handle: sender.handle,
        },
      }),
    );
  }

  /**
   * D: a new group every time (defect 6), as one BatchWriteItem of three puts: my summary,
   * the other user's summary and the message. `UnprocessedItems` is not looked at (defect 7).
   * @returns the new group's uuid.
   */
  async function createMessageGroup(sender: Participant, recipient: Participant, text: string): Promise<string> {
    const groupUuid = randomUUID();
    const now = timestamp();
    const summary = (owner: Participant, other: Participant): OriginalGroupSummaryItem => ({
      pk: `${KeyPrefix.groupSummary}${owner.user_uuid}`,
      sk: now,
      message_group_uuid: groupUuid,
      message: text,
      user_uuid: other.user_uuid,
      user_display_name: other.display_name,
      user_handle: other.handle,
    });
    const message = {
      pk: `${KeyPrefix.message}${groupUuid}`,
      sk: now,
      message: text,
      message_uuid: randomUUID(),
      user_uuid: sender.user_uuid,
      user_display_name: sender.display_name,
      user_handle: sender.handle,
    };
    await client.send(
      new BatchWriteCommand({
        RequestItems: { [tableName]: [summary(sender, recipient), summary(recipient, sender), message].map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
    return groupUuid;
  }

  /**
   * E for one record: a new `MSG#` item makes every summary of its group (found through
   * the GSI) be deleted and put back with the message's `sk` and text, one request at a
   * time, with nothing tying the delete to the put (defect 2).
   */
  async function updateGroupsForRecord(record: DynamoDBRecord): Promise<void> {
    const pk = record.dynamodb?.Keys?.pk?.S;
    const sk = record.dynamodb?.Keys?.sk?.S;
    if (pk === undefined || sk === undefined || !pk.startsWith(KeyPrefix.message)) return;
    const groupUuid = pk.slice(KeyPrefix.message.length);
    const message = record.dynamodb?.NewImage?.message?.S;
    const data = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: GROUP_SK_INDEX,
        KeyConditionExpression: 'message_group_uuid = :g',
        ExpressionAttributeValues: { ':g': groupUuid },
      }),
    );
    for (const item of (data.Items ?? []) as OriginalGroupSummaryItem[]) {
      await client.send(new DeleteCommand({ TableName: tableName, Key: { pk: item.pk, sk: item.sk } }));
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk: item.pk,
            sk,
            message_group_uuid: item.message_group_uuid,
            message,
            user_display_name: item.user_display_name,
            user_handle: item.user_handle,
            user_uuid: item.user_uuid,
          },
        }),
      );
    }
  }

  /** E: the original's handler, applied to each record in turn (see the header). */
  async function messageStreamHandler(event: DynamoDBStreamEvent): Promise<void> {
    for (const record of event.Records ?? []) await updateGroupsForRecord(record);
  }

  /**
   * The original's `bin/ddb/seed`: both summaries (put one at a time) at `start` with the text
   * "this is a filler message", then the lines as messages a minute apart from `start`,
   * alternating speakers, the first line from `a`. Each key is the write's `isoformat()`.
   * @returns the group's uuid.
   */
  async function seedConversation(a: Participant, b: Participant, lines: readonly string[], start: number, groupUuid: string = randomUUID()): Promise<string> {
    const startKey = pythonIsoFormat(start, 123);
    for (const [owner, other] of [
      [a, b],
      [b, a],
    ] as const) {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk: `${KeyPrefix.groupSummary}${owner.user_uuid}`,
            sk: startKey,
            message_group_uuid: groupUuid,
            message: 'this is a filler message',
            user_uuid: other.user_uuid,
            user_display_name: other.display_name,
            user_handle: other.handle,
          },
        }),
      );
    }
    for (const [index, line] of lines.entries()) {
      const sender = index % 2 === 0 ? a : b;
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk: `${KeyPrefix.message}${groupUuid}`,
            sk: pythonIsoFormat(start + index * 60_000, 456),
            message_uuid: randomUUID(),
            message: line,
            user_uuid: sender.user_uuid,
            user_display_name: sender.display_name,
            user_handle: sender.handle,
          },
        }),
      );
    }
    return groupUuid;
  }

  return { listMessages, listMessageGroups, createMessage, createMessageGroup, updateGroupsForRecord, messageStreamHandler, seedConversation };
}
