/**
 * An open WebSocket connection of a user (`pk = CONN#{user_uuid}`, `sk = {connectionId}`):
 * written by `$connect`, deleted by `$disconnect` and by the push function when API Gateway
 * says the connection is gone (410). In the messages table rather than a table of its own:
 * the push function reads the message's group item and its members' connections from the
 * same place, the table's TTL (`expires_at`) already exists, and both stream consumers' filters
 * let only new messages through, so connection items cost them nothing.
 */
import { keys } from './keys';
import type { IsoTimestamp } from './time';

/**
 * API Gateway closes a WebSocket after two hours whatever happens (and after ten idle
 * minutes); the item outlives that by a margin, then DynamoDB's TTL removes what a lost
 * `$disconnect` left behind. A connection also ends with the access token it was opened with
 * (an hour by default): the item expires then, and the push function skips and deletes it.
 */
const CONNECTION_TTL_SECONDS = 2 * 60 * 60 + 10 * 60;

export interface ConnectionItem {
  pk: string;
  sk: string;
  connection_id: string;
  user_uuid: string;
  connected_at: IsoTimestamp;
  /** Epoch seconds; the table's TTL attribute. */
  expires_at: number;
}

/** Whether a connection item still stands for an open, authorized connection (DynamoDB's TTL deletes late). */
export const isOpenConnection = (item: Pick<ConnectionItem, 'expires_at'>, nowMs: number) => item.expires_at * 1000 > nowMs;

export function buildConnectionItem(input: {
  userUuid: string;
  connectionId: string;
  connectedAt: IsoTimestamp;
  /** The access token's `exp` (epoch seconds): the item expires then, if sooner than API Gateway's limit. */
  tokenExpiresAt?: number;
}): ConnectionItem {
  const limit = Math.floor(Date.parse(input.connectedAt) / 1000) + CONNECTION_TTL_SECONDS;
  return {
    ...keys.connection(input.userUuid, input.connectionId),
    connection_id: input.connectionId,
    user_uuid: input.userUuid,
    connected_at: input.connectedAt,
    expires_at: input.tokenExpiresAt === undefined ? limit : Math.min(limit, Math.floor(input.tokenExpiresAt)),
  };
}
