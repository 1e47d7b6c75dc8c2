/**
 * The single-table model of direct messaging: the one place that knows table and index
 * names, key formats, item shapes and how items become API shapes. The infrastructure,
 * the schema-load script, the repository, the stream consumer and the tests all read it.
 * `docs/data-model.md` explains the design.
 */
import { timeOrderedKey, timestampOfKey, type IsoTimestamp } from './time';

export const DEFAULT_TABLE_NAME = 'cruddur-messages';
export const GROUP_SK_INDEX = 'message-group-sk-index';

/**
 * The table as the schema-load script creates it and the infrastructure declares it.
 * Only key attributes are declared; everything else is schemaless.
 */
export const messagesTableSchema = {
  partitionKey: 'pk',
  sortKey: 'sk',
  attributes: [
    { name: 'pk', type: 'S' },
    { name: 'sk', type: 'S' },
    { name: 'message_group_uuid', type: 'S' },
  ],
  globalSecondaryIndexes: [
    { name: GROUP_SK_INDEX, partitionKey: 'message_group_uuid', sortKey: 'sk', projection: 'ALL' },
  ],
  /** The stream consumer only needs what was written. */
  streamViewType: 'NEW_IMAGE',
} as const;

/** Key prefixes; each names one item type. */
export const KeyPrefix = {
  message: 'MSG#',
  groupSummary: 'GRP#',
  group: 'GROUP#',
  pair: 'PAIR#',
} as const;

const GROUP_SK = 'META';
const PAIR_SK = 'PAIR';

export type TableKey = { pk: string; sk: string };

/** A participant as the items snapshot them (the original did the same). */
export interface Participant {
  user_uuid: string;
  display_name: string;
  handle: string;
}

/** One message: `pk = MSG#{group}`, `sk = {created_at}#{message_uuid}`. */
export interface MessageItem {
  pk: string;
  sk: string;
  message_uuid: string;
  message: string;
  user_uuid: string;
  user_display_name: string;
  user_handle: string;
  created_at: IsoTimestamp;
}

/**
 * One participant's view of a group (pattern B), one per participant:
 * `pk = GRP#{owner}`, `sk = {last_message_at}#{group}`. The `user_*` fields describe the
 * *other* participant. Only these items carry `message_group_uuid`, so the GSI holds them alone.
 */
export interface MessageGroupSummaryItem {
  pk: string;
  sk: string;
  message_group_uuid: string;
  message: string;
  user_uuid: string;
  user_display_name: string;
  user_handle: string;
  last_message_at: IsoTimestamp;
}

/**
 * The group itself: `pk = GROUP#{group}`, `sk = META`. Read with a strongly consistent
 * GetItem for membership checks; holds the key of the newest message the summaries show,
 * which makes the stream consumer's move conditional, order-safe and idempotent.
 */
export interface MessageGroupItem {
  pk: string;
  sk: typeof GROUP_SK;
  members: [Participant, Participant];
  member_uuids: [string, string];
  last_message_sk: string;
  last_message: string;
  created_at: IsoTimestamp;
}

/**
 * Uniqueness of a pair of users: `pk = PAIR#{lower uuid}#{higher uuid}`, `sk = PAIR`,
 * written with `attribute_not_exists` in the transaction that creates the group, so two
 * concurrent creates for one pair cannot both succeed (defect 6).
 */
export interface PairItem {
  pk: string;
  sk: typeof PAIR_SK;
  group_uuid: string;
  created_at: IsoTimestamp;
}

export const keys = {
  message: (groupUuid: string, createdAt: IsoTimestamp, messageUuid: string): TableKey => ({
    pk: `${KeyPrefix.message}${groupUuid}`,
    sk: timeOrderedKey(createdAt, messageUuid),
  }),
  messagePartition: (groupUuid: string): string => `${KeyPrefix.message}${groupUuid}`,
  groupSummary: (ownerUuid: string, lastMessageAt: IsoTimestamp, groupUuid: string): TableKey => ({
    pk: `${KeyPrefix.groupSummary}${ownerUuid}`,
    sk: timeOrderedKey(lastMessageAt, groupUuid),
  }),
  groupSummaryPartition: (ownerUuid: string): string => `${KeyPrefix.groupSummary}${ownerUuid}`,
  group: (groupUuid: string): TableKey => ({ pk: `${KeyPrefix.group}${groupUuid}`, sk: GROUP_SK }),
  pair: (userA: string, userB: string): TableKey => {
    const [low, high] = [userA, userB].sort();
    return { pk: `${KeyPrefix.pair}${low}#${high}`, sk: PAIR_SK };
  },
};

/** The group uuid of a message item's partition key, or undefined for other items. */
export function groupUuidOfMessageKey(pk: string): string | undefined {
  return pk.startsWith(KeyPrefix.message) ? pk.slice(KeyPrefix.message.length) : undefined;
}

export function isMessageItem(item: Record<string, unknown>): item is MessageItem & Record<string, unknown> {
  return (
    typeof item.pk === 'string' &&
    item.pk.startsWith(KeyPrefix.message) &&
    typeof item.sk === 'string' &&
    typeof item.message_uuid === 'string' &&
    typeof item.message === 'string'
  );
}

export function buildMessageItem(input: {
  groupUuid: string;
  messageUuid: string;
  sender: Participant;
  text: string;
  createdAt: IsoTimestamp;
}): MessageItem {
  return {
    ...keys.message(input.groupUuid, input.createdAt, input.messageUuid),
    message_uuid: input.messageUuid,
    message: input.text,
    user_uuid: input.sender.user_uuid,
    user_display_name: input.sender.display_name,
    user_handle: input.sender.handle,
    created_at: input.createdAt,
  };
}

/** The summary `owner` sees of a group whose newest message is `lastMessage`. */
export function buildGroupSummaryItem(input: {
  groupUuid: string;
  owner: Participant;
  other: Participant;
  lastMessageSk: string;
  lastMessage: string;
}): MessageGroupSummaryItem {
  const lastMessageAt = timestampOfKey(input.lastMessageSk);
  return {
    ...keys.groupSummary(input.owner.user_uuid, lastMessageAt, input.groupUuid),
    message_group_uuid: input.groupUuid,
    message: input.lastMessage,
    user_uuid: input.other.user_uuid,
    user_display_name: input.other.display_name,
    user_handle: input.other.handle,
    last_message_at: lastMessageAt,
  };
}

/** Both participants' summaries of a group at a given newest message. */
export function buildGroupSummaryItems(group: {
  groupUuid: string;
  members: readonly [Participant, Participant];
  lastMessageSk: string;
  lastMessage: string;
}): [MessageGroupSummaryItem, MessageGroupSummaryItem] {
  const [a, b] = group.members;
  const common = { groupUuid: group.groupUuid, lastMessageSk: group.lastMessageSk, lastMessage: group.lastMessage };
  return [
    buildGroupSummaryItem({ ...common, owner: a, other: b }),
    buildGroupSummaryItem({ ...common, owner: b, other: a }),
  ];
}

export function buildGroupItem(input: {
  groupUuid: string;
  members: [Participant, Participant];
  lastMessageSk: string;
  lastMessage: string;
  createdAt: IsoTimestamp;
}): MessageGroupItem {
  return {
    ...keys.group(input.groupUuid),
    sk: GROUP_SK,
    members: input.members,
    member_uuids: [input.members[0].user_uuid, input.members[1].user_uuid],
    last_message_sk: input.lastMessageSk,
    last_message: input.lastMessage,
    created_at: input.createdAt,
  };
}

export function buildPairItem(userA: string, userB: string, groupUuid: string, createdAt: IsoTimestamp): PairItem {
  return { ...keys.pair(userA, userB), sk: PAIR_SK, group_uuid: groupUuid, created_at: createdAt };
}

/** The group's uuid, from its item. */
export function groupUuidOf(item: MessageGroupItem): string {
  return item.pk.slice(KeyPrefix.group.length);
}

// ---- API shapes (REFERENCE.md, "HTTP contract") ----

/** An entry of `GET /api/messages/{group}`. */
export interface MessageView {
  uuid: string;
  display_name: string;
  handle: string;
  message: string;
  created_at: IsoTimestamp;
}

/** An entry of `GET /api/message_groups`; the person is the other participant. */
export interface MessageGroupView {
  uuid: string;
  display_name: string;
  handle: string;
  message: string;
  created_at: IsoTimestamp;
}

export function toMessageView(item: MessageItem): MessageView {
  return {
    uuid: item.message_uuid,
    display_name: item.user_display_name,
    handle: item.user_handle,
    message: item.message,
    created_at: item.created_at,
  };
}

export function toMessageGroupView(item: MessageGroupSummaryItem): MessageGroupView {
  return {
    uuid: item.message_group_uuid,
    display_name: item.user_display_name,
    handle: item.user_handle,
    message: item.message,
    created_at: item.last_message_at,
  };
}
