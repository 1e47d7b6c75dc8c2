/**
 * The user directory: what the API needs of a user (uuid, handle, display name, Cognito
 * `sub`), copied from PostgreSQL into the messages table under both keys it is looked up by
 * (`USERSUB#{sub}` and `USERHANDLE#{handle}`, sk `USER`), so that a cold container finds the
 * caller with one GetItem and PostgreSQL is asked only on a miss. An entry answers for
 * {@link DIRECTORY_TTL_SECONDS}, no longer than a warm container keeps a user: a renamed user
 * shows the old name at most that long. `expires_at` is the table's TTL attribute; DynamoDB
 * deletes late, so a reader checks it.
 */
import { keys } from './keys';
import type { IsoTimestamp } from './time';

/** How long an entry answers: the per-container cache's time, so the two together stay within it. */
export const DIRECTORY_TTL_SECONDS = 60;

/** A user as the API sees one (the users table's row without its email). */
export interface DirectoryUser {
  uuid: string;
  display_name: string;
  handle: string;
  cognito_user_id: string | null;
}

export interface DirectoryItem {
  pk: string;
  sk: string;
  user_uuid: string;
  display_name: string;
  handle: string;
  cognito_user_id: string | null;
  copied_at: IsoTimestamp;
  /** Epoch seconds; the table's TTL attribute. */
  expires_at: number;
}

/** The entries of a user: under its handle, and under its `sub` when it has signed in. */
export function buildDirectoryItems(user: DirectoryUser, copiedAt: IsoTimestamp): DirectoryItem[] {
  const fields = {
    user_uuid: user.uuid,
    display_name: user.display_name,
    handle: user.handle,
    cognito_user_id: user.cognito_user_id,
    copied_at: copiedAt,
    expires_at: Math.floor(Date.parse(copiedAt) / 1000) + DIRECTORY_TTL_SECONDS,
  };
  return [{ ...keys.userByHandle(user.handle), ...fields }, ...(user.cognito_user_id ? [{ ...keys.userBySub(user.cognito_user_id), ...fields }] : [])];
}

/** The user an entry holds, while it answers; undefined once expired (or for anything else). */
export function directoryUserOf(item: Partial<DirectoryItem> | undefined, nowMs: number): { user: DirectoryUser; expiresAtMs: number } | undefined {
  if (item?.user_uuid === undefined || item.handle === undefined || item.display_name === undefined || typeof item.expires_at !== 'number') return undefined;
  const expiresAtMs = item.expires_at * 1000;
  if (expiresAtMs <= nowMs) return undefined;
  return { user: { uuid: item.user_uuid, display_name: item.display_name, handle: item.handle, cognito_user_id: item.cognito_user_id ?? null }, expiresAtMs };
}
