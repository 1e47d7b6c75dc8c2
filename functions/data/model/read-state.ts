/**
 * Read state: how far each member of a group has read, and how many of the other member's
 * messages each has not read yet.
 *
 * - The **read marker** of a member is the key of the newest message they marked read, held by
 *   the group item as `read_sk_{member}` with `read_at_{member}` (one attribute per member, not a
 *   map: a map would have to exist before one of its entries could be set). Markers only move
 *   forward.
 * - The **unread count** of a member is the number of the other member's messages with a key
 *   after the member's marker and up to the group's `last_message_sk` (the newest message the
 *   summaries show). The group item holds it as `unread_{member}`, and each member's summary as
 *   `unread_count`, so listing conversations stays one Query per page.
 *
 * Both writers recount from the messages themselves and write in one transaction conditioned
 * on what they read (the last message key, both markers, both counts): the stream consumer
 * when it moves or recounts a group, mark-read when it moves a marker. A replayed record, a
 * late message with an older key, a crash between the two: the next write recounts, and a
 * conflicting one fails its condition and starts again. `docs/data-model.md` has the proof.
 */
import { keys } from './keys';
import type { MessageGroupItem } from './group';
import { KeyPrefix } from './table';
import { timeOrderedKey, type IsoTimestamp } from './time';

/** The attribute names of a member's read state on the group item. */
export const readAttributes = (memberUuid: string) => ({
  marker: `read_sk_${memberUuid}`,
  /** The uuid of the message at the marker: what the API answers as `read_up_to`. */
  readUpTo: `read_up_to_${memberUuid}`,
  readAt: `read_at_${memberUuid}`,
  unread: `unread_${memberUuid}`,
});

/** A member's read state, as the group item holds it. */
export interface MemberReadState {
  /** The key of the newest message read; undefined: nothing read yet. */
  marker?: string;
  readUpTo?: string;
  readAt?: IsoTimestamp;
  /** Undefined on a group item written before read state existed. */
  unread?: number;
}

/** The group item's attributes holding a member's read state (those of `state` that are set). */
export function readStateAttributes(memberUuid: string, state: MemberReadState): Record<string, string | number> {
  const names = readAttributes(memberUuid);
  return {
    ...(state.marker === undefined ? {} : { [names.marker]: state.marker }),
    ...(state.readUpTo === undefined ? {} : { [names.readUpTo]: state.readUpTo }),
    ...(state.readAt === undefined ? {} : { [names.readAt]: state.readAt }),
    ...(state.unread === undefined ? {} : { [names.unread]: state.unread }),
  };
}

/**
 * Each member's unread count when nobody has marked anything read: the other member's messages.
 * For groups written whole at once (seeding).
 */
export function unreadOfUnmarked(memberUuids: readonly [string, string], messages: readonly { user_uuid: string }[]): [number, number] {
  return [messages.filter((message) => message.user_uuid !== memberUuids[0]).length, messages.filter((message) => message.user_uuid !== memberUuids[1]).length];
}

export function readStateOf(group: MessageGroupItem, memberUuid: string): MemberReadState {
  const item = group as unknown as Record<string, unknown>;
  const names = readAttributes(memberUuid);
  const marker = item[names.marker];
  const readUpTo = item[names.readUpTo];
  const readAt = item[names.readAt];
  const unread = item[names.unread];
  return {
    ...(typeof marker === 'string' ? { marker } : {}),
    ...(typeof readUpTo === 'string' ? { readUpTo } : {}),
    ...(typeof readAt === 'string' ? { readAt } : {}),
    ...(typeof unread === 'number' ? { unread } : {}),
  };
}

/** How long a receipt item stays in the table: it exists to reach the stream, then the TTL removes it. */
const RECEIPT_TTL_SECONDS = 24 * 60 * 60;

/**
 * A read receipt (`pk = RECEIPT#{group}`, `sk = {read_at}#{reader}`): written with the marker
 * so that the push function, reading the stream, tells both members' open apps. It carries no
 * `message_group_uuid` (the GSI holds summaries only): `group_uuid` instead.
 */
export interface ReceiptItem {
  pk: string;
  sk: string;
  group_uuid: string;
  reader_uuid: string;
  reader_handle: string;
  /** The uuid of the newest message read. */
  read_up_to: string;
  read_at: IsoTimestamp;
  member_uuids: [string, string];
  expires_at: number;
}

export function buildReceiptItem(input: {
  groupUuid: string;
  reader: { user_uuid: string; handle: string };
  readUpTo: string;
  readAt: IsoTimestamp;
  memberUuids: [string, string];
}): ReceiptItem {
  return {
    ...keys.receipt(input.groupUuid, timeOrderedKey(input.readAt, input.reader.user_uuid)),
    group_uuid: input.groupUuid,
    reader_uuid: input.reader.user_uuid,
    reader_handle: input.reader.handle,
    read_up_to: input.readUpTo,
    read_at: input.readAt,
    member_uuids: input.memberUuids,
    expires_at: Math.floor(Date.parse(input.readAt) / 1000) + RECEIPT_TTL_SECONDS,
  };
}

/** Whether a stream image is a whole receipt item. */
export function isReceiptItem(item: Record<string, unknown>): item is ReceiptItem & Record<string, unknown> {
  return (
    typeof item.pk === 'string' &&
    item.pk.startsWith(KeyPrefix.receipt) &&
    typeof item.group_uuid === 'string' &&
    typeof item.reader_handle === 'string' &&
    typeof item.read_up_to === 'string' &&
    typeof item.read_at === 'string' &&
    Array.isArray(item.member_uuids) &&
    item.member_uuids.length === 2 &&
    item.member_uuids.every((uuid) => typeof uuid === 'string')
  );
}
