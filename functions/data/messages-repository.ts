/**
 * DynamoDB adapter of the messages table: one named function per access pattern.
 * It knows keys and requests; who may do what is the domain layer's business.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { decodeCursor, encodeCursor } from './cursor';
import { NotFoundError, WriteNotAppliedError } from '../errors';
import { createUnreadCounter } from './unread-counts';
import { queryPages } from './query-pages';
import {
  buildReceiptItem,
  readAttributes,
  readStateAttributes,
  readStateOf,
  timestampOfKey,
  type MemberReadState,
  type SummaryReadState,
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
export type SummaryMoveResult = 'moved' | 'recounted' | 'unchanged' | 'no-group';

/** The newest message of a group, as the stream consumer saw it. */
export interface NewestMessage {
  sk: string;
  message: string;
}

/** `POST /api/message_groups/{group}/read`'s answer: where the caller's marker is now. */
export interface ReadMarkerView {
  message_group_uuid: string;
  /** The uuid of the newest message read. */
  read_up_to: string;
  read_at: string;
  /** The other person's messages still unread (newer than the marker, as far as the summaries go). */
  unread_count: number;
}

/** Where a read marker moves to: a message's sort key and uuid. */
interface MessageToMark {
  sk: string;
  message_uuid: string;
}

/** `GET /api/message_groups/unread`'s answer: for a badge. */
export interface UnreadTotals {
  conversations: number;
  messages: number;
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
  const unread = createUnreadCounter(client, tableName);

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
    // Read state from the start: the recipient has one unread message, the sender none.
    const group = {
      ...buildGroupItem({ groupUuid, members, lastMessageSk: message.sk, lastMessage: text, createdAt }),
      ...readStateAttributes(sender.user_uuid, { unread: 0 }),
      ...readStateAttributes(recipient.user_uuid, { unread: 1 }),
    };
    const summaries = buildGroupSummaryItems({
      groupUuid,
      members,
      lastMessageSk: message.sk,
      lastMessage: text,
      read: [{ unreadCount: 0 }, { unreadCount: 1 }],
    });
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

  /** Both members' read states, in the group's member order. */
  const readStates = (group: MessageGroupItem): [MemberReadState, MemberReadState] => [
    readStateOf(group, group.member_uuids[0]),
    readStateOf(group, group.member_uuids[1]),
  ];

  /**
   * The condition that the group item still holds what was read of it: its last message key
   * and both markers (the attribute names go into `names`, the values into `values`).
   */
  function unchangedGroupCondition(group: MessageGroupItem, names: Record<string, string>, values: Record<string, unknown>): string {
    values[':seenLast'] = group.last_message_sk;
    const parts = ['last_message_sk = :seenLast'];
    group.member_uuids.forEach((memberUuid, index) => {
      const state = readStateOf(group, memberUuid);
      names[`#seenMarker${index}`] = readAttributes(memberUuid).marker;
      if (state.marker === undefined) {
        parts.push(`attribute_not_exists(#seenMarker${index})`);
      } else {
        values[`:seenMarker${index}`] = state.marker;
        parts.push(`#seenMarker${index} = :seenMarker${index}`);
      }
    });
    return parts.join(' AND ');
  }

  /** The transaction item updating a group item `set` (named attributes) if {@link unchangedGroupCondition} holds. */
  function groupUpdate(group: MessageGroupItem, groupUuid: string, set: string, names: Record<string, string>, values: Record<string, unknown>) {
    const condition = unchangedGroupCondition(group, names, values);
    return {
      Update: {
        TableName: tableName,
        Key: keys.group(groupUuid),
        UpdateExpression: set,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    };
  }

  /**
   * Pattern E: moves both participants' summaries of a group to its newest message and brings
   * both unread counts up to it, in one transaction conditioned on what was read of the group
   * item (last message key, both markers), so a summary is never missing or doubled, an older
   * message never replaces a newer one, a count is never taken from a stale marker, and a
   * replay changes nothing.
   *
   * The counts: when every message of the batch is newer than the group's last one (the usual
   * case), the stored counts plus the other member's messages in (last, newest]; otherwise (a
   * replay, or a message whose key is older than one already applied: two writers' clocks)
   * both are counted again from the markers. Costs one consistent GetItem, one Query over the
   * counted range and at most one TransactWriteItems (more only on conflict).
   * A group without a group item is `no-group`: nothing to move, now or later.
   */
  async function moveGroupSummary(groupUuid: string, newest: NewestMessage, oldestSk: string = newest.sk): Promise<SummaryMoveResult> {
    // Each attempt reads the group afresh: a concurrent move or mark-read that won the
    // condition, or a conflict, is decided again on what the table now says.
    const changedOrConflict = (error: unknown) => cancellationCodes(error)[0] === 'ConditionalCheckFailed' || isRetryableTransactionCancellation(error);
    return withRetries(
      async (): Promise<SummaryMoveResult> => {
        const group = await getGroup(groupUuid);
        if (group === undefined) return 'no-group';
        const moves = newest.sk > group.last_message_sk;
        const target = moves ? newest : { sk: group.last_message_sk, message: group.last_message };
        const states = readStates(group);
        const stored = states.map((state) => state.unread);
        const incremental = oldestSk > group.last_message_sk && stored[0] !== undefined && stored[1] !== undefined;
        const atLeast = (key: string | undefined) => (key === undefined || key < group.last_message_sk ? group.last_message_sk : key);
        const counts = incremental
          ? (await unread.count(groupUuid, group.member_uuids, [atLeast(states[0].marker), atLeast(states[1].marker)], target.sk)).map(
              (added, index) => added + stored[index]!,
            )
          : await unread.count(groupUuid, group.member_uuids, [states[0].marker, states[1].marker], target.sk);
        if (!moves && counts[0] === stored[0] && counts[1] === stored[1]) return 'unchanged';

        const read = states.map((state, index) => ({ unreadCount: counts[index]!, lastReadAt: state.readAt })) as [SummaryReadState, SummaryReadState];
        const current = buildGroupSummaryItems({ groupUuid, members: group.members, lastMessageSk: group.last_message_sk, lastMessage: group.last_message });
        const next = buildGroupSummaryItems({ groupUuid, members: group.members, lastMessageSk: target.sk, lastMessage: target.message, read });
        // Same millisecond (or a recount): the summary key does not change, and one transaction may not touch a key twice.
        const deletes = current[0].sk === next[0].sk ? [] : current.map(({ pk, sk }) => ({ Delete: { TableName: tableName, Key: { pk, sk } } }));
        const names: Record<string, string> = {
          '#unread0': readAttributes(group.member_uuids[0]).unread,
          '#unread1': readAttributes(group.member_uuids[1]).unread,
        };
        const values: Record<string, unknown> = { ':new': target.sk, ':text': target.message, ':unread0': counts[0], ':unread1': counts[1] };
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              groupUpdate(group, groupUuid, 'SET last_message_sk = :new, last_message = :text, #unread0 = :unread0, #unread1 = :unread1', names, values),
              ...deletes,
              ...next.map((summary) => ({ Put: { TableName: tableName, Item: summary } })),
            ],
          }),
        );
        return moves ? 'moved' : 'recounted';
      },
      changedOrConflict,
      retry,
    );
  }

  /** The message a read marker goes to: the group's newest, or the one with this uuid; undefined when there is none. */
  async function findMessageToMark(groupUuid: string, messageUuid: string | undefined): Promise<MessageToMark | undefined> {
    // Newest first: a marker is nearly always set on a recent message.
    const pages = queryPages(client, {
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.messagePartition(groupUuid), ...(messageUuid === undefined ? {} : { ':uuid': messageUuid }) },
      ...(messageUuid === undefined ? { Limit: 1 } : { FilterExpression: 'message_uuid = :uuid' }),
      ProjectionExpression: 'sk, message_uuid',
      ScanIndexForward: false,
      ConsistentRead: true,
    });
    for await (const page of pages) {
      const found = page[0] as MessageToMark | undefined;
      if (found !== undefined || messageUuid === undefined) return found;
    }
    return undefined;
  }

  /**
   * Moves a member's read marker forward to a message (default: the newest), with their unread
   * count and summary, and writes a receipt for the push function; in one transaction
   * conditioned on the group item as read (the last message key, both markers). Monotonic and
   * idempotent: a marker at or past that message stays where it is, and nothing is written.
   * The caller has checked membership; `lookedUp` is {@link findMessageToMark}'s answer when the
   * caller asked it already (at once with the membership check: one round trip fewer).
   * @throws NotFoundError when the group has no message with that uuid.
   */
  async function markRead(
    groupUuid: string,
    reader: Participant,
    messageUuid?: string,
    lookedUp?: { message: MessageToMark | undefined },
  ): Promise<ReadMarkerView> {
    const message = lookedUp ? lookedUp.message : await findMessageToMark(groupUuid, messageUuid);
    if (message === undefined) throw new NotFoundError('Message not found in this conversation');
    const changedOrConflict = (error: unknown) => cancellationCodes(error)[0] === 'ConditionalCheckFailed' || isRetryableTransactionCancellation(error);
    return withRetries(
      async (): Promise<ReadMarkerView> => {
        const group = await getGroup(groupUuid);
        if (group === undefined) throw new NotFoundError('Message group not found');
        const index = group.member_uuids.indexOf(reader.user_uuid);
        const state = readStateOf(group, reader.user_uuid);
        if (state.marker !== undefined && state.marker >= message.sk) {
          // Already read that far: the marker never moves back.
          return {
            message_group_uuid: groupUuid,
            read_up_to: state.readUpTo ?? message.message_uuid,
            read_at: state.readAt ?? timestampOfKey(state.marker),
            unread_count: state.unread ?? 0,
          };
        }
        const after: [string | undefined, string | undefined] = [group.last_message_sk, group.last_message_sk];
        after[index] = message.sk;
        const counted = await unread.count(groupUuid, group.member_uuids, after, group.last_message_sk);
        const unreadCount = counted[index]!;
        const readAt = nowIso(clock);
        const mine = readAttributes(reader.user_uuid);
        const names: Record<string, string> = { '#marker': mine.marker, '#readUpTo': mine.readUpTo, '#readAt': mine.readAt, '#unread': mine.unread };
        const values: Record<string, unknown> = { ':marker': message.sk, ':readUpTo': message.message_uuid, ':readAt': readAt, ':unread': unreadCount };
        const summaryKey = keys.groupSummary(reader.user_uuid, timestampOfKey(group.last_message_sk), groupUuid);
        const receipt = buildReceiptItem({ groupUuid, reader, readUpTo: message.message_uuid, readAt, memberUuids: group.member_uuids });
        try {
          await client.send(
            new TransactWriteCommand({
              TransactItems: [
                groupUpdate(group, groupUuid, 'SET #marker = :marker, #readUpTo = :readUpTo, #readAt = :readAt, #unread = :unread', names, values),
                {
                  Update: {
                    TableName: tableName,
                    Key: summaryKey,
                    UpdateExpression: 'SET unread_count = :unread, last_read_at = :readAt',
                    // Never a partial summary: it exists wherever the group item says it does.
                    ConditionExpression: 'attribute_exists(pk)',
                    ExpressionAttributeValues: { ':unread': unreadCount, ':readAt': readAt },
                  },
                },
                { Put: { TableName: tableName, Item: receipt } },
              ],
            }),
          );
        } catch (error) {
          // A missing summary is a broken table only where the group item is as read; when the group
          // changed too, the consumer moved its summaries since the read: tried again, as any change.
          const [groupCode, summaryCode] = cancellationCodes(error);
          if (groupCode === 'None' && summaryCode === 'ConditionalCheckFailed') {
            throw new WriteNotAppliedError(`The summary of group ${groupUuid} is missing where its group item says it is`, { cause: error });
          }
          throw error;
        }
        return { message_group_uuid: groupUuid, read_up_to: message.message_uuid, read_at: readAt, unread_count: unreadCount };
      },
      changedOrConflict,
      retry,
    );
  }

  /** The caller's conversations with unread messages, and those messages: one Query over their summaries, paged. */
  async function unreadTotals(ownerUuid: string): Promise<UnreadTotals> {
    const totals: UnreadTotals = { conversations: 0, messages: 0 };
    const pages = queryPages(client, {
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: 'unread_count > :zero',
      ExpressionAttributeValues: { ':pk': keys.groupSummaryPartition(ownerUuid), ':zero': 0 },
      ProjectionExpression: 'unread_count',
    });
    for await (const page of pages) {
      for (const item of page) {
        totals.conversations += 1;
        totals.messages += (item as { unread_count: number }).unread_count;
      }
    }
    return totals;
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
    markRead,
    findMessageToMark,
    unreadTotals,
  };
}
