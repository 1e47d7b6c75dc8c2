/** The group item (`GROUP#{group}`, `META`): members and the newest message the summaries show. */
import { GROUP_SK, keys } from './keys';
import { KeyPrefix, type Participant } from './table';
import type { IsoTimestamp } from './time';

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

/** The group's uuid, from its item. */
export function groupUuidOf(item: MessageGroupItem): string {
  return item.pk.slice(KeyPrefix.group.length);
}
