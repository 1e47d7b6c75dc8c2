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
}

/** The summary `owner` sees of a group whose newest message is `lastMessage`. */
function buildGroupSummaryItem(input: {
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
  return [buildGroupSummaryItem({ ...common, owner: a, other: b }), buildGroupSummaryItem({ ...common, owner: b, other: a })];
}

/** An entry of `GET /api/message_groups`; the person is the other participant. */
export interface MessageGroupView {
  uuid: string;
  display_name: string;
  handle: string;
  message: string;
  created_at: IsoTimestamp;
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
