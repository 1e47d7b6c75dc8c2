/** Group summary items (`GRP#{owner}`), one per participant, and their API shape (pattern B). */
import { keys } from './keys';
import type { Participant } from './table';
import { timestampOfKey, type IsoTimestamp } from './time';

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
  /** The other member's messages the owner has not read, up to this summary's message (data/model/read-state.ts); absent on items written before read state. */
  unread_count?: number;
  /** When the owner last marked the conversation read. */
  last_read_at?: IsoTimestamp;
}

/** What a summary says of its owner's reading. */
export interface SummaryReadState {
  unreadCount: number;
  lastReadAt?: IsoTimestamp;
}

/** The summary `owner` sees of a group whose newest message is `lastMessage`. */
function buildGroupSummaryItem(input: {
  groupUuid: string;
  owner: Participant;
  other: Participant;
  lastMessageSk: string;
  lastMessage: string;
  read: SummaryReadState;
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
    unread_count: input.read.unreadCount,
    ...(input.read.lastReadAt ? { last_read_at: input.read.lastReadAt } : {}),
  };
}

/** Both participants' summaries of a group at a given newest message. */
export function buildGroupSummaryItems(group: {
  groupUuid: string;
  members: readonly [Participant, Participant];
  lastMessageSk: string;
  lastMessage: string;
  /** Each member's read state, in the members' order (default: nothing unread, never read). */
  read?: readonly [SummaryReadState, SummaryReadState];
}): [MessageGroupSummaryItem, MessageGroupSummaryItem] {
  const [a, b] = group.members;
  const [readA, readB] = group.read ?? [{ unreadCount: 0 }, { unreadCount: 0 }];
  const common = { groupUuid: group.groupUuid, lastMessageSk: group.lastMessageSk, lastMessage: group.lastMessage };
  return [buildGroupSummaryItem({ ...common, owner: a, other: b, read: readA }), buildGroupSummaryItem({ ...common, owner: b, other: a, read: readB })];
}

/** An entry of `GET /api/message_groups`; the person is the other participant. */
export interface MessageGroupView {
  uuid: string;
  display_name: string;
  handle: string;
  message: string;
  created_at: IsoTimestamp;
  /** The other person's messages you have not marked read. */
  unread_count: number;
  /** When you last marked the conversation read; null: never. */
  last_read_at: IsoTimestamp | null;
}

export function toMessageGroupView(item: MessageGroupSummaryItem): MessageGroupView {
  return {
    uuid: item.message_group_uuid,
    display_name: item.user_display_name,
    handle: item.user_handle,
    message: item.message,
    created_at: item.last_message_at,
    unread_count: item.unread_count ?? 0,
    last_read_at: item.last_read_at ?? null,
  };
}
