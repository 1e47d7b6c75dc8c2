/** Message items (`MSG#{group}`) and their API shape. */
import { keys } from './keys';
import { KeyPrefix, type Participant } from './table';
import type { IsoTimestamp } from './time';

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

export function isMessageItem(item: Record<string, unknown>): item is MessageItem & Record<string, unknown> {
  return (
    typeof item.pk === 'string' &&
    item.pk.startsWith(KeyPrefix.message) &&
    typeof item.sk === 'string' &&
    typeof item.message_uuid === 'string' &&
    typeof item.message === 'string'
  );
}

export function buildMessageItem(input: { groupUuid: string; messageUuid: string; sender: Participant; text: string; createdAt: IsoTimestamp }): MessageItem {
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

/** An entry of `GET /api/messages/{group}`. */
export interface MessageView {
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

/** `POST /api/messages`'s answer: the message plus the group it went to (and what an idempotency record keeps). */
export interface CreatedMessageView extends MessageView {
  message_group_uuid: string;
}

export function toCreatedMessageView(groupUuid: string, item: MessageItem): CreatedMessageView {
  return { message_group_uuid: groupUuid, ...toMessageView(item) };
}
