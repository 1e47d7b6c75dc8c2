/**
 * DynamoDB adapter of the messages table: one named function per access pattern.
 * It knows keys and requests; who may do what is the domain layer's business.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { decodeCursor, encodeCursor } from './cursor';
import { WriteNotAppliedError } from '../errors';
import {
  DEFAULT_TABLE_NAME,
  buildGroupItem,
  buildGroupSummaryItems,
  buildMessageItem,
  buildIdempotencyItem,
  buildPairItem,
  isLiveIdempotencyItem,
  keys,
  toMessageGroupView,
  toCreatedMessageView,
  toMessageView,
  type CreatedMessageView,
  type MessageGroupItem,
  type MessageGroupSummaryItem,
  type IdempotencyItem,
  type MessageGroupView,
  type MessageItem,
  type MessageView,
  type Participant,
  type PairItem,
} from './model';
import { cancellationCodes, isRetryableTransactionCancellation, withRetries, type RetryOptions } from './retry';
import { nowIso } from './model';

export interface PageRequest {
  limit: number;
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Absent on the last page. */
  nextCursor?: string;
}

/** A message as written, with the group it went to. */
export interface CreatedMessage {
  messageGroupUuid: string;
  /** The API's answer for it. */
  answer: CreatedMessageView;
  /** The stored item, for callers that need its key. */
  item: MessageItem;
}

/**
 * A write made idempotent by its caller's key: the record (holding the write's answer) goes
 * into the write's own transaction, so it exists exactly when the message does.
 */
export interface IdempotencyClaim {
  userUuid: string;
  key: string;
  /** What the request asked for: a retry must ask the same. */
  requestHash: string;
}

/** The caller's key has a live record already: an earlier request with it created its message. */
export class IdempotencyKeyTakenError extends Error {
  override readonly name = 'IdempotencyKeyTakenError';

  constructor(
    /** The record that holds the key, as read when the write was refused (undefined if it expired meanwhile). */
    readonly record: IdempotencyItem | undefined,
    options?: { cause?: unknown },
  ) {
    super('The Idempotency-Key was used first by another request', options);
  }
}

export interface CreatedInGroup extends CreatedMessage {
  /** False when the pair already had a group and the message was appended to it. */
  groupCreated: boolean;
}

/**
 * `no-group`: the group has no group item (a table written by the original and not yet
 * migrated, or a stray write), so no retry can ever move its summaries.
 */
export type SummaryMoveResult = 'moved' | 'unchanged' | 'no-group';

/** The newest message of a group, as the stream consumer saw it. */
export interface NewestMessage {
  sk: string;
  message: string;
}

export interface MessagesRepositoryOptions {
  tableName?: string;
  clock?: () => number;
  newUuid?: () => string;
  /** Retry policy for transaction conflicts and unprocessed items. */
  retry?: RetryOptions;
}

export type MessagesRepository = ReturnType<typeof createMessagesRepository>;

/** Builds the repository over a document client created once by the caller. */
export function createMessagesRepository(client: DynamoDBDocumentClient, options: MessagesRepositoryOptions = {}) {
  const tableName = options.tableName ?? DEFAULT_TABLE_NAME;
  const clock = options.clock ?? Date.now;
  const newUuid = options.newUuid ?? randomUUID;
  const retry = options.retry ?? {};

  async function queryPage<T extends { sk: string }>(pk: string, page: PageRequest): Promise<{ items: T[]; nextCursor?: string }> {
    const output = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ScanIndexForward: false,
        // One extra item tells whether another page exists, so the last page has no cursor.
        Limit: page.limit + 1,
        ExclusiveStartKey: page.cursor === undefined ? undefined : { pk, sk: decodeCursor(pk, page.cursor) },
      }),
    );
    const items = (output.Items ?? []) as T[];
    if (items.length <= page.limit) return { items };
    const shown = items.slice(0, page.limit);
    return { items: shown, nextCursor: encodeCursor(pk, shown[shown.length - 1]!.sk) };
  }

  /** Pattern A: a page of a group's messages, oldest first; the cursor pages back in time. */
  async function listMessages(groupUuid: string, page: PageRequest): Promise<Page<MessageView>> {
    const { items, nextCursor } = await queryPage<MessageItem>(keys.messagePartition(groupUuid), page);
    return { items: items.reverse().map(toMessageView), nextCursor };
  }

  /** Pattern B: a page of a user's conversations, newest first. */
  async function listMessageGroups(ownerUuid: string, page: PageRequest): Promise<Page<MessageGroupView>> {
    const { items, nextCursor } = await queryPage<MessageGroupSummaryItem>(keys.groupSummaryPartition(ownerUuid), page);
    return { items: items.map(toMessageGroupView), nextCursor };
  }

  /** The group with its members, read strongly consistent (membership checks, pattern E). */
  async function getGroup(groupUuid: string): Promise<MessageGroupItem | undefined> {
    const output = await client.send(new GetCommand({ TableName: tableName, Key: keys.group(groupUuid), ConsistentRead: true }));
    return output.Item as MessageGroupItem | undefined;
  }

  /** The uuid of the one group of a pair of users, if they have one. */
  async function findGroupUuidForPair(userA: string, userB: string): Promise<string | undefined> {
    const output = await client.send(new GetCommand({ TableName: tableName, Key: keys.pair(userA, userB), ConsistentRead: true }));
    return (output.Item as PairItem | undefined)?.group_uuid;
  }

  /**
   * Pattern C: appends a message to an existing group. The stream consumer (pattern E)
   * moves the summaries. The caller has checked membership.
   */
  async function createMessage(groupUuid: string, sender: Participant, text: string, claim?: IdempotencyClaim): Promise<CreatedMessage> {
    const item = buildMessageItem({ groupUuid, messageUuid: newUuid(), sender, text, createdAt: nowIso(clock) });
    // The key ends with a fresh uuid; the condition makes an overwrite impossible, not just unlikely.
    const put = { TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' };
    if (claim === undefined) {
      await writeOnce(() => client.send(new PutCommand(put)), item);
    } else {
      // With a key, the message and its record in one transaction (the record first: its code is read below).
      const transaction = () => new TransactWriteCommand({ TransactItems: [idempotencyPut(claim, groupUuid, item), { Put: put }] });
      await writeClaimed(() => withRetries(() => client.send(transaction()), isRetryableTransactionCancellation, retry), item, 0, claim);
    }
    return { messageGroupUuid: groupUuid, answer: toCreatedMessageView(groupUuid, item), item };
  }

  /** The Put of the claim's record, conditioned on there being no live record for the key. */
  function idempotencyPut(claim: IdempotencyClaim, groupUuid: string, message: MessageItem) {
    const record = buildIdempotencyItem({
      userUuid: claim.userUuid,
      key: claim.key,
      requestHash: claim.requestHash,
      response: toCreatedMessageView(groupUuid, message),
      createdAt: message.created_at,
    });
    return {
      Put: {
        TableName: tableName,
        Item: record,
        // An expired record DynamoDB has not deleted yet counts as absent.
        ConditionExpression: 'attribute_not_exists(pk) OR expires_at <= :now',
        ExpressionAttributeValues: { ':now': Math.floor(clock() / 1000) },
      },
    };
  }

  /**
   * {@link writeOnce} for a transaction holding an idempotency record at `recordIndex`. A
   * cancellation on that record is settled by the record itself, in one read: its answer names
   * this very message when this request's own earlier attempt committed (its answer lost);
   * anything else means the key was used first by another request.
   * @throws IdempotencyKeyTakenError then, with the record.
   */
  async function writeClaimed(write: () => Promise<unknown>, message: MessageItem, recordIndex: number, claim: IdempotencyClaim): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (cancellationCodes(error)[recordIndex] !== 'ConditionalCheckFailed') {
        // Not the key: a lost answer is settled as without one.
        await writeOnce(() => Promise.reject(error), message);
        return;
      }
      const record = await findIdempotencyRecord(claim.userUuid, claim.key);
      if (record?.response.uuid === message.message_uuid) return;
      throw new IdempotencyKeyTakenError(record, { cause: error });
    }
  }

  /** The live record of a caller's key, read strongly consistent, if there is one. */
  async function findIdempotencyRecord(userUuid: string, key: string): Promise<IdempotencyItem | undefined> {
    const output = await client.send(new GetCommand({ TableName: tableName, Key: keys.idempotency(userUuid, key), ConsistentRead: true }));
    const item = output.Item as IdempotencyItem | undefined;
    return item !== undefined && isLiveIdempotencyItem(item, clock()) ? item : undefined;
  }

  /** Whether this very message (key and uuid) is in the table, read strongly consistent. */
  async function isStored(message: MessageItem): Promise<boolean> {
    const output = await client.send(new GetCommand({ TableName: tableName, Key: { pk: message.pk, sk: message.sk }, ConsistentRead: true }));
    return (output.Item as MessageItem | undefined)?.message_uuid === message.message_uuid;
  }

  /**
   * Runs a write that stores `message`, and when it fails, asks the table whether it landed
   * anyway. A request whose answer was lost (a timeout) may have been applied; the SDK then
   * retries it, and the retry fails its own `attribute_not_exists` condition, or is
   * throttled. Reported as a failure, the message would be stored while the client was told
   * otherwise (and a client that tried again would store it twice). The message's key holds
   * a uuid drawn for this request, so if it is there, this request wrote it.
   * @throws the write's error when the message is not stored (or that cannot be read).
   */
  async function writeOnce(write: () => Promise<unknown>, message: MessageItem): Promise<void> {
    try {
      await write();
    } catch (error) {
      const stored = await isStored(message).catch(() => false);
      if (!stored) throw error;
    }
  }

  /**
   * Pattern D: a message to someone the sender may not have a group with yet. Creates the
   * group, both summaries and the message in one transaction guarded by the pair item;
   * when the pair already has a group (or another request creates it first), the message
   * is appended to that group instead. Race-free from either side.
   */
  async function createMessageInNewGroup(sender: Participant, recipient: Participant, text: string, claim?: IdempotencyClaim): Promise<CreatedInGroup> {
    const existing = await findGroupUuidForPair(sender.user_uuid, recipient.user_uuid);
    if (existing !== undefined) return { ...(await createMessage(existing, sender, text, claim)), groupCreated: false };

    const groupUuid = newUuid();
    const createdAt = nowIso(clock);
    const message = buildMessageItem({ groupUuid, messageUuid: newUuid(), sender, text, createdAt });
    const members: [Participant, Participant] = [sender, recipient];
    const group = buildGroupItem({ groupUuid, members, lastMessageSk: message.sk, lastMessage: text, createdAt });
    const summaries = buildGroupSummaryItems({ groupUuid, members, lastMessageSk: message.sk, lastMessage: text });
    const notExists = 'attribute_not_exists(pk)';
    // A command per attempt: commands of lib-dynamodb are not meant to be sent twice.
    const transaction = () =>
      new TransactWriteCommand({
        TransactItems: [
          // The pair item must stay first: its cancellation code is read below.
          { Put: { TableName: tableName, Item: buildPairItem(sender.user_uuid, recipient.user_uuid, groupUuid, createdAt), ConditionExpression: notExists } },
          { Put: { TableName: tableName, Item: group, ConditionExpression: notExists } },
          ...summaries.map((summary) => ({ Put: { TableName: tableName, Item: summary } })),
          { Put: { TableName: tableName, Item: message, ConditionExpression: notExists } },
          // The idempotency record, when there is one, last: at index 5.
          ...(claim === undefined ? [] : [idempotencyPut(claim, groupUuid, message)]),
        ],
      });
    try {
      // A retry whose first attempt committed fails on the pair item: writeOnce finds the message.
      const write = () => withRetries(() => client.send(transaction()), isRetryableTransactionCancellation, retry);
      if (claim === undefined) await writeOnce(write, message);
      else await writeClaimed(write, message, 5, claim);
    } catch (error) {
      if (cancellationCodes(error)[0] !== 'ConditionalCheckFailed') throw error;
      // Another request created the pair's group first: join it.
      const winner = await findGroupUuidForPair(sender.user_uuid, recipient.user_uuid);
      if (winner === undefined) throw new WriteNotAppliedError('The pair item changed while the group was created', { cause: error });
      return { ...(await createMessage(winner, sender, text, claim)), groupCreated: false };
    }
    return { messageGroupUuid: groupUuid, answer: toCreatedMessageView(groupUuid, message), item: message, groupCreated: true };
  }

  /**
   * Pattern E: moves both participants' summaries of a group to its newest message, in one
   * transaction conditioned on the group's last message key, so a summary is never missing
   * or doubled, an older message never replaces a newer one and a replay changes nothing.
   * Costs one consistent GetItem and at most one TransactWriteItems (more only on conflict).
   * A group without a group item is `no-group`: nothing to move, now or later.
   */
  async function moveGroupSummary(groupUuid: string, newest: NewestMessage): Promise<SummaryMoveResult> {
    // Each attempt reads the group afresh: a concurrent move that won the condition, or a
    // conflict, is decided again on what the table now says.
    const movedOrConflict = (error: unknown) => cancellationCodes(error)[0] === 'ConditionalCheckFailed' || isRetryableTransactionCancellation(error);
    return withRetries(
      async (): Promise<SummaryMoveResult> => {
        const group = await getGroup(groupUuid);
        if (group === undefined) return 'no-group';
        if (group.last_message_sk >= newest.sk) return 'unchanged';

        const current = buildGroupSummaryItems({ groupUuid, members: group.members, lastMessageSk: group.last_message_sk, lastMessage: group.last_message });
        const next = buildGroupSummaryItems({ groupUuid, members: group.members, lastMessageSk: newest.sk, lastMessage: newest.message });
        // Same millisecond: the summary key does not change, and one transaction may not touch a key twice.
        const deletes = current[0].sk === next[0].sk ? [] : current.map(({ pk, sk }) => ({ Delete: { TableName: tableName, Key: { pk, sk } } }));
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: tableName,
                  Key: keys.group(groupUuid),
                  UpdateExpression: 'SET last_message_sk = :new, last_message = :text',
                  ConditionExpression: 'last_message_sk = :old',
                  ExpressionAttributeValues: { ':new': newest.sk, ':text': newest.message, ':old': group.last_message_sk },
                },
              },
              ...deletes,
              ...next.map((summary) => ({ Put: { TableName: tableName, Item: summary } })),
            ],
          }),
        );
        return 'moved';
      },
      movedOrConflict,
      retry,
    );
  }

  return {
    tableName,
    listMessages,
    listMessageGroups,
    getGroup,
    findGroupUuidForPair,
    createMessage,
    createMessageInNewGroup,
    findIdempotencyRecord,
    moveGroupSummary,
  };
}
