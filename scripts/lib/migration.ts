/**
 * Upgrading a `cruddur-messages` table written by the original (Python) code in place, so
 * that every old conversation works with patterns A to E: the plan is a pure function of the
 * table's items and the users' names (unit-tested), the execution applies it in an order
 * that is safe to interrupt and to repeat.
 *
 * What the original left (docs/defects.md): messages keyed by a Python timestamp
 * (`2026-12-02T03:07:20.371423+00:00`, or naive in a later branch) without `created_at`;
 * one summary per participant keyed by a timestamp, without `last_message_at`, sometimes
 * missing or doubled by its non-atomic stream lambda; no group, pair or membership items;
 * several groups for one pair (its pattern D made a new group every time).
 *
 * What the plan makes of it, per group: a group item (members from the summaries, or from
 * the messages' senders when no summary is left), exactly two summaries in this project's
 * format at the newest message, and every message re-keyed `{timestamp}#{uuid}` with
 * `created_at`; per pair of users, a pair item naming the group with the newest message, so
 * pattern D continues there while every group stays readable by both people.
 */
import { randomUUID } from 'node:crypto';
import { PutCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { cancellationCodes } from '../../functions/data/retry';
import {
  KeyPrefix,
  buildGroupItem,
  buildGroupSummaryItems,
  buildMessageItem,
  buildPairItem,
  readStateAttributes,
  groupUuidOf,
  groupUuidOfMessageKey,
  isIsoTimestamp,
  keys,
  timeOrderedKey,
  type IsoTimestamp,
  type MessageGroupItem,
  type MessageGroupSummaryItem,
  type MessageItem,
  type PairItem,
  type Participant,
  type TableKey,
} from '../../functions/data/model';

/** An item as a scan returns it. */
export type Item = Record<string, unknown>;

/** A user as PostgreSQL knows them. */
export interface KnownUser {
  uuid: string;
  handle: string;
  display_name: string;
}

export interface PlanOptions {
  /** The UTC offset of timestamps written without one (`+00:00`, `-05:00`): the zone the original's hosts ran in. */
  naiveOffset: string;
  /** Epoch ms: the time of a group that has neither messages nor a readable summary time. */
  now: number;
  /** Makes uuids for messages that have none (the original always wrote one). */
  newUuid?: () => string;
}

/** A message re-keyed: the original item goes, this one comes. */
interface MessageMove {
  from: TableKey;
  item: MessageItem;
}

/** What one group becomes. */
interface GroupPlan {
  groupUuid: string;
  groupItem: MessageGroupItem;
  /** Summaries to delete (any that are not exactly the two wanted ones). */
  deleteSummaries: TableKey[];
  /** The two summaries to write; empty when the table has them already. */
  putSummaries: MessageGroupSummaryItem[];
  /** The group has no message left; it shows its summary's text. */
  withoutMessages: boolean;
}

interface PairPlan {
  pairKey: string;
  memberUuids: [string, string];
  /** The members' handles, for people reading the report. */
  memberHandles: [string, string];
  /** Every group of the pair, newest message first. */
  groupUuids: string[];
  item: PairItem;
  /** The pair item is missing or names another group. */
  write: boolean;
}

/** Something the migration cannot place, with what to do about it. */
interface Unplaced {
  key: TableKey;
  reason: string;
  advice: string;
}

export interface MigrationPlan {
  groups: GroupPlan[];
  pairs: PairPlan[];
  messages: MessageMove[];
  unplaced: Unplaced[];
  /** Members of groups who are not in PostgreSQL's users (their names come from the items). */
  unknownUsers: { uuid: string; handle: string }[];
  /** Groups that already had a group item (this project's, or a previous run's). */
  groupsAlreadyMigrated: number;
  /** The newest timestamp of an item still in the original's format, for the writers check. */
  newestOriginalWrite?: IsoTimestamp;
  itemsRead: number;
}

const PYTHON_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;
const OFFSET = /^([+-])(\d{2}):?(\d{2})$/;

/** The UTC offset in minutes of `+05:30`, `-0800`, `Z`. @throws RangeError for anything else. */
export function offsetMinutes(offset: string): number {
  if (offset === 'Z') return 0;
  const match = OFFSET.exec(offset);
  if (!match) throw new RangeError(`Not a UTC offset: "${offset}" (expected +HH:MM)`);
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  if (Number(match[2]) > 14 || Number(match[3]) > 59) throw new RangeError(`Not a UTC offset: "${offset}"`);
  return match[1] === '-' ? -minutes : minutes;
}

/**
 * A timestamp of the original (Python `isoformat()`: microseconds, `+00:00`, or naive) as
 * this project stores them: `toISOString()`, UTC, milliseconds (the microseconds beyond are
 * dropped; keys end with a uuid, so two messages of one millisecond still differ).
 * @returns undefined for anything that is not such a timestamp.
 */
export function normalizeTimestamp(value: unknown, naiveOffset: string): IsoTimestamp | undefined {
  if (typeof value !== 'string') return undefined;
  if (isIsoTimestamp(value)) return value;
  // (isIsoTimestamp narrows a plain string away; it is still one.)
  const match = PYTHON_TIMESTAMP.exec((value as string).trim());
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction = '', zone] = match;
  const millis = Number(fraction.padEnd(3, '0').slice(0, 3));
  const utc = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second), millis);
  const date = new Date(utc - offsetMinutes(zone ?? naiveOffset) * 60_000);
  // Date.UTC rolls 2026-02-30 over into March: a date that does not exist is not a timestamp.
  if (Number.isNaN(date.getTime()) || new Date(utc).getUTCDate() !== Number(day)) return undefined;
  return date.toISOString();
}

const isMessageKey = (pk: string) => pk.startsWith(KeyPrefix.message);
const isSummaryKey = (pk: string) => pk.startsWith(KeyPrefix.groupSummary);
const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
const keyOf = (item: Item): TableKey => ({ pk: String(item.pk), sk: String(item.sk) });

/** Is this message already in this project's format? */
function isMigratedMessage(item: Item): boolean {
  return (
    typeof item.created_at === 'string' &&
    isIsoTimestamp(item.created_at) &&
    typeof item.message_uuid === 'string' &&
    item.sk === timeOrderedKey(item.created_at, item.message_uuid)
  );
}

function isMigratedSummary(item: Item): boolean {
  return (
    typeof item.last_message_at === 'string' &&
    isIsoTimestamp(item.last_message_at) &&
    item.sk === timeOrderedKey(item.last_message_at, String(item.message_group_uuid))
  );
}

interface GroupFacts {
  groupUuid: string;
  summaries: Item[];
  /** In this project's format; `from` is the original's key of one still to re-key. */
  messages: (MessageItem & { from?: TableKey })[];
  groupItem?: MessageGroupItem;
}

/** The plan for a table's items. */
export function planMigration(items: readonly Item[], users: ReadonlyMap<string, KnownUser>, options: PlanOptions): MigrationPlan {
  const newUuid = options.newUuid ?? randomUUID;
  const unplaced: Unplaced[] = [];
  const messages: MessageMove[] = [];
  const facts = new Map<string, GroupFacts>();
  const pairItems = new Map<string, PairItem>();
  let newestOriginalWrite: IsoTimestamp | undefined;
  const noteOriginal = (at: IsoTimestamp | undefined) => {
    if (at !== undefined && (newestOriginalWrite === undefined || at > newestOriginalWrite)) newestOriginalWrite = at;
  };
  const factsOf = (groupUuid: string) => {
    let found = facts.get(groupUuid);
    if (found === undefined) facts.set(groupUuid, (found = { groupUuid, summaries: [], messages: [] }));
    return found;
  };

  for (const item of items) {
    const pk = text(item.pk) ?? '';
    if (isMessageKey(pk)) {
      const groupUuid = groupUuidOfMessageKey(pk)!;
      if (isMigratedMessage(item)) {
        factsOf(groupUuid).messages.push(item as unknown as MessageItem);
        continue;
      }
      const createdAt = normalizeTimestamp(item.sk, options.naiveOffset);
      noteOriginal(createdAt);
      if (createdAt === undefined || typeof item.message !== 'string') {
        unplaced.push({
          key: keyOf(item),
          reason: createdAt === undefined ? `its sort key "${String(item.sk)}" is not a timestamp` : 'it has no message text',
          advice: 'inspect it (npm run ddb:scan) and fix or delete it by hand',
        });
        continue;
      }
      const moved = buildMessageItem({
        groupUuid,
        messageUuid: text(item.message_uuid) ?? newUuid(),
        sender: { user_uuid: text(item.user_uuid) ?? '', display_name: text(item.user_display_name) ?? '', handle: text(item.user_handle) ?? '' },
        text: item.message,
        createdAt,
      });
      factsOf(groupUuid).messages.push({ ...moved, from: keyOf(item) });
    } else if (isSummaryKey(pk)) {
      const groupUuid = text(item.message_group_uuid);
      if (groupUuid === undefined) {
        unplaced.push({ key: keyOf(item), reason: 'a summary without message_group_uuid', advice: 'delete it: no conversation can be found from it' });
        continue;
      }
      if (!isMigratedSummary(item)) noteOriginal(normalizeTimestamp(item.sk, options.naiveOffset));
      factsOf(groupUuid).summaries.push(item);
    } else if (pk.startsWith(KeyPrefix.group)) {
      const group = item as unknown as MessageGroupItem;
      factsOf(groupUuidOf(group)).groupItem = group;
    } else if (pk.startsWith(KeyPrefix.pair)) {
      pairItems.set(pk, item as unknown as PairItem);
    }
  }

  const unknownUsers = new Map<string, string>();
  const groups: GroupPlan[] = [];
  /** Every group's members and newest message, for the pairs. */
  const placed: { groupUuid: string; members: [string, string]; handles: [string, string]; newestSk: string; createdAt: IsoTimestamp }[] = [];
  let groupsAlreadyMigrated = 0;

  for (const group of [...facts.values()].sort((a, b) => (a.groupUuid < b.groupUuid ? -1 : 1))) {
    const newest = group.messages.reduce<MessageItem | undefined>((best, message) => (best === undefined || message.sk > best.sk ? message : best), undefined);
    const oldest = group.messages.reduce<MessageItem | undefined>((best, message) => (best === undefined || message.sk < best.sk ? message : best), undefined);

    /** Re-keys the group's messages still in the original's format (only once the group is placed). */
    const moveMessages = () => {
      for (const { from, ...item } of group.messages) if (from !== undefined) messages.push({ from, item });
    };

    if (group.groupItem !== undefined) {
      groupsAlreadyMigrated += 1;
      moveMessages();
      const item = group.groupItem;
      // A resumed run still names the people PostgreSQL lacks, whichever run placed their group.
      for (const member of item.members) if (!users.has(member.user_uuid)) unknownUsers.set(member.user_uuid, member.handle);
      placed.push({
        groupUuid: group.groupUuid,
        members: item.member_uuids,
        handles: [item.members[0].handle, item.members[1].handle],
        newestSk: item.last_message_sk,
        createdAt: item.created_at,
      });
      continue;
    }

    const members = membersOf(group, users);
    if ('reason' in members) {
      for (const message of group.messages)
        unplaced.push({ key: message.from ?? { pk: message.pk, sk: message.sk }, reason: members.reason, advice: members.advice });
      for (const summary of group.summaries) unplaced.push({ key: keyOf(summary), reason: members.reason, advice: members.advice });
      continue;
    }
    for (const member of members.participants) if (!users.has(member.user_uuid)) unknownUsers.set(member.user_uuid, member.handle);
    moveMessages();

    const summaryTimes = group.summaries
      .map((summary) => normalizeTimestamp(summary.last_message_at ?? summary.sk, options.naiveOffset))
      .filter((at): at is string => at !== undefined)
      .sort();
    const latestSummary = [...group.summaries].sort((a, b) => (String(a.sk) < String(b.sk) ? 1 : -1))[0];
    const lastMessageSk = newest?.sk ?? timeOrderedKey(summaryTimes[summaryTimes.length - 1] ?? new Date(options.now).toISOString(), group.groupUuid);
    const lastMessage = newest?.message ?? text(latestSummary?.message) ?? '';
    const createdAt = oldest?.created_at ?? summaryTimes[0] ?? new Date(options.now).toISOString();
    // The original kept no read state: what it holds counts as read, both markers at its newest message.
    const readUpTo = { marker: lastMessageSk, unread: 0, ...(newest === undefined ? {} : { readUpTo: newest.message_uuid }) };
    const groupItem = {
      ...buildGroupItem({ groupUuid: group.groupUuid, members: members.participants, lastMessageSk, lastMessage, createdAt }),
      ...readStateAttributes(members.participants[0].user_uuid, readUpTo),
      ...readStateAttributes(members.participants[1].user_uuid, readUpTo),
    };
    const wanted = buildGroupSummaryItems({ groupUuid: group.groupUuid, members: members.participants, lastMessageSk, lastMessage });
    const same = (have: Item, want: MessageGroupSummaryItem) =>
      Object.entries(want).every(([field, value]) => have[field] === value) && Object.keys(have).every((field) => field in want);
    const alreadyRight = group.summaries.length === 2 && wanted.every((want) => group.summaries.some((have) => same(have, want)));
    groups.push({
      groupUuid: group.groupUuid,
      groupItem,
      deleteSummaries: alreadyRight ? [] : group.summaries.map(keyOf).filter((key) => !wanted.some((want) => want.pk === key.pk && want.sk === key.sk)),
      putSummaries: alreadyRight ? [] : wanted,
      withoutMessages: newest === undefined,
    });
    placed.push({
      groupUuid: group.groupUuid,
      members: groupItem.member_uuids,
      handles: [members.participants[0].handle, members.participants[1].handle],
      newestSk: lastMessageSk,
      createdAt,
    });
  }

  const byPair = new Map<string, typeof placed>();
  for (const group of placed) {
    const pairKey = keys.pair(group.members[0], group.members[1]).pk;
    byPair.set(pairKey, [...(byPair.get(pairKey) ?? []), group]);
  }
  const pairs: PairPlan[] = [...byPair].map(([pairKey, pairGroups]) => {
    const ordered = [...pairGroups].sort((a, b) => (a.newestSk < b.newestSk ? 1 : a.newestSk > b.newestSk ? -1 : a.groupUuid < b.groupUuid ? -1 : 1));
    const chosen = ordered[0]!;
    const existing = pairItems.get(pairKey);
    const item = buildPairItem(
      chosen.members[0],
      chosen.members[1],
      chosen.groupUuid,
      existing?.group_uuid === chosen.groupUuid ? existing.created_at : chosen.createdAt,
    );
    return {
      pairKey,
      memberUuids: chosen.members,
      memberHandles: chosen.handles,
      groupUuids: ordered.map((group) => group.groupUuid),
      item,
      write: existing?.group_uuid !== chosen.groupUuid,
    };
  });

  return {
    groups,
    pairs: pairs.sort((a, b) => (a.pairKey < b.pairKey ? -1 : 1)),
    messages,
    unplaced,
    unknownUsers: [...unknownUsers].map(([uuid, handle]) => ({ uuid, handle })),
    groupsAlreadyMigrated,
    ...(newestOriginalWrite === undefined ? {} : { newestOriginalWrite }),
    itemsRead: items.length,
  };
}

/**
 * The two members of a group: from its summaries (each names its owner and the other
 * person), or, with no summary left, from the senders of its messages. Names come from
 * PostgreSQL when it knows the user, else from the items' snapshots.
 */
function membersOf(
  group: GroupFacts,
  users: ReadonlyMap<string, KnownUser>,
): { participants: [Participant, Participant] } | { reason: string; advice: string } {
  const snapshots = new Map<string, Participant>();
  const remember = (uuid: string | undefined, display_name: unknown, handle: unknown) => {
    if (!uuid) return;
    if (typeof display_name === 'string' && typeof handle === 'string' && !snapshots.has(uuid)) snapshots.set(uuid, { user_uuid: uuid, display_name, handle });
  };
  const fromSummaries = new Set<string>();
  for (const summary of group.summaries) {
    const owner = text(summary.pk)!.slice(KeyPrefix.groupSummary.length);
    const other = text(summary.user_uuid);
    fromSummaries.add(owner);
    if (other) fromSummaries.add(other);
    remember(other, summary.user_display_name, summary.user_handle);
  }
  const senders = new Set<string>();
  for (const message of group.messages) {
    if (message.user_uuid) senders.add(message.user_uuid);
    remember(message.user_uuid, message.user_display_name, message.user_handle);
  }
  const uuids = group.summaries.length > 0 ? fromSummaries : senders;
  if (uuids.size !== 2) {
    return group.summaries.length > 0
      ? {
          reason: `its summaries name ${uuids.size} people, not 2`,
          advice: 'inspect the group (npm run ddb:scan) and delete the summaries that do not belong to it, then run the migration again',
        }
      : {
          reason: `an orphan message: no summary names its group, and its messages have ${uuids.size} sender(s), not 2`,
          advice: 'the other person cannot be known: delete these messages, or write a summary naming both people and run the migration again',
        };
  }
  const participants = [...uuids].sort().map((uuid) => {
    const known = users.get(uuid);
    return known
      ? { user_uuid: uuid, display_name: known.display_name, handle: known.handle }
      : (snapshots.get(uuid) ?? { user_uuid: uuid, display_name: '', handle: '' });
  }) as [Participant, Participant];
  if (participants.some((participant) => participant.handle === '')) {
    return {
      reason: 'a member is in no item and not in PostgreSQL, so nobody knows their name',
      advice: 'add the user to public.users (npm run db:seed or your own data), then run the migration again',
    };
  }
  return { participants };
}

export interface ExecutionOptions {
  /** A line now and then while it works. */
  progress?: (line: string) => void;
  /** Stops (throws) after this many write requests: the tests' way to kill it halfway. */
  stopAfterWrites?: number;
}

export interface ExecutionResult {
  groupsWritten: number;
  /** Groups another run (or the API) had written meanwhile: left as they were. */
  groupsSkipped: number;
  summariesDeleted: number;
  summariesWritten: number;
  pairsWritten: number;
  messagesMoved: number;
  /** Messages already moved by another run meanwhile. */
  messagesSkipped: number;
}

/** The migration was stopped on purpose (`stopAfterWrites`). */
export class MigrationStoppedError extends Error {
  override readonly name = 'MigrationStoppedError';
}

/** Messages moved per transaction: a put and a delete each, 50 of DynamoDB's 100 actions. */
const MESSAGES_PER_TRANSACTION = 25;

/**
 * Applies a plan: groups first (group item, summaries: one transaction per group, so a group
 * is either untouched or whole), then pair items, then messages (the re-keyed item and the
 * removal of the original in one transaction). A stream consumer running meanwhile finds each
 * group item before the re-keyed messages, which then change nothing. Run again after an
 * interruption, a new plan finds what is done and does the rest.
 */
export async function executeMigration(
  client: DynamoDBDocumentClient,
  tableName: string,
  plan: MigrationPlan,
  options: ExecutionOptions = {},
): Promise<ExecutionResult> {
  const result: ExecutionResult = {
    groupsWritten: 0,
    groupsSkipped: 0,
    summariesDeleted: 0,
    summariesWritten: 0,
    pairsWritten: 0,
    messagesMoved: 0,
    messagesSkipped: 0,
  };
  const progress = options.progress ?? (() => {});
  let writes = 0;
  const write = async (command: TransactWriteCommand | PutCommand) => {
    if (options.stopAfterWrites !== undefined && writes >= options.stopAfterWrites) throw new MigrationStoppedError(`stopped after ${writes} writes`);
    writes += 1;
    await client.send(command as TransactWriteCommand);
  };
  const conditionFailed = (error: unknown) =>
    cancellationCodes(error).includes('ConditionalCheckFailed') || (error as Error).name === 'ConditionalCheckFailedException';
  const every = (done: number, total: number, step: number) => done % step === 0 || done === total;

  for (const [index, group] of plan.groups.entries()) {
    const deletes = group.deleteSummaries.map((key) => ({ Delete: { TableName: tableName, Key: key } }));
    const puts = group.putSummaries.map((Item) => ({ Put: { TableName: tableName, Item } }));
    // A group the original's lambda doubled many times: the extra summaries go first, 90 at a time.
    while (deletes.length > 90) {
      await write(new TransactWriteCommand({ TransactItems: deletes.splice(0, 90) }));
      result.summariesDeleted += 90;
    }
    try {
      await write(
        new TransactWriteCommand({
          TransactItems: [{ Put: { TableName: tableName, Item: group.groupItem, ConditionExpression: 'attribute_not_exists(pk)' } }, ...deletes, ...puts],
        }),
      );
      result.groupsWritten += 1;
      result.summariesDeleted += deletes.length;
      result.summariesWritten += puts.length;
    } catch (error) {
      if (!conditionFailed(error)) throw error;
      result.groupsSkipped += 1;
    }
    if (every(index + 1, plan.groups.length, 100)) progress(`  groups ${index + 1}/${plan.groups.length}`);
  }

  const pairs = plan.pairs.filter((pair) => pair.write);
  for (const [index, pair] of pairs.entries()) {
    await write(new PutCommand({ TableName: tableName, Item: pair.item }));
    result.pairsWritten += 1;
    if (every(index + 1, pairs.length, 100)) progress(`  pair items ${index + 1}/${pairs.length}`);
  }

  const moveOne = (move: MessageMove) => [
    { Put: { TableName: tableName, Item: move.item, ConditionExpression: 'attribute_not_exists(pk)' } },
    { Delete: { TableName: tableName, Key: move.from, ConditionExpression: 'attribute_exists(pk)' } },
  ];
  for (let start = 0; start < plan.messages.length; start += MESSAGES_PER_TRANSACTION) {
    const chunk = plan.messages.slice(start, start + MESSAGES_PER_TRANSACTION);
    try {
      await write(new TransactWriteCommand({ TransactItems: chunk.flatMap(moveOne) }));
      result.messagesMoved += chunk.length;
    } catch (error) {
      if (!conditionFailed(error)) throw error;
      // Some were moved meanwhile: one at a time, skipping those.
      for (const move of chunk) {
        try {
          await write(new TransactWriteCommand({ TransactItems: moveOne(move) }));
          result.messagesMoved += 1;
        } catch (single) {
          if (!conditionFailed(single)) throw single;
          result.messagesSkipped += 1;
        }
      }
    }
    const done = Math.min(start + MESSAGES_PER_TRANSACTION, plan.messages.length);
    if (every(done, plan.messages.length, 500) || done === plan.messages.length) progress(`  messages ${done}/${plan.messages.length}`);
  }
  return result;
}
