/**
 * PostgreSQL adapter of the users table (`public.users`), over a pool (scripts, tests) or one
 * connection per query (the functions: `clients/postgres.ts`). The API resolves the caller by
 * Cognito `sub` and the other party by handle.
 */
import type { Queryable } from '../clients/postgres';
import type { DirectoryUser, Participant } from './model';

/** A user as the API sees one: what the user directory copies (`data/model/directory.ts`). */
export type User = DirectoryUser;

const COLUMNS = 'uuid::text AS uuid, display_name, handle, cognito_user_id';

export function createUsersRepository(pool: Queryable) {
  /** The user a Cognito access token's `sub` belongs to. */
  async function findByCognitoUserId(cognitoUserId: string): Promise<User | undefined> {
    const result = await pool.query<User>(`SELECT ${COLUMNS} FROM public.users WHERE cognito_user_id = $1 LIMIT 1`, [cognitoUserId]);
    return result.rows[0];
  }

  /** The user with a handle (handles are compared exactly, as the original did). */
  async function findByHandle(handle: string): Promise<User | undefined> {
    const result = await pool.query<User>(`SELECT ${COLUMNS} FROM public.users WHERE handle = $1 LIMIT 1`, [handle]);
    return result.rows[0];
  }

  /** The users with any of these handles, in no particular order. */
  async function findByHandles(handles: readonly string[]): Promise<User[]> {
    if (handles.length === 0) return [];
    const result = await pool.query<User>(`SELECT ${COLUMNS} FROM public.users WHERE handle = ANY($1::text[])`, [handles]);
    return result.rows;
  }

  /** Sets `cognito_user_id` for each handle; returns the handles that matched a row. */
  async function setCognitoUserIds(byHandle: ReadonlyMap<string, string>): Promise<string[]> {
    if (byHandle.size === 0) return [];
    const handles = [...byHandle.keys()];
    const subs = handles.map((handle) => byHandle.get(handle)!);
    const result = await pool.query<{ handle: string }>(
      `UPDATE public.users AS u SET cognito_user_id = v.sub
         FROM unnest($1::text[], $2::text[]) AS v(handle, sub)
        WHERE u.handle = v.handle
        RETURNING u.handle`,
      [handles, subs],
    );
    return result.rows.map((row) => row.handle);
  }

  return { findByCognitoUserId, findByHandle, findByHandles, setCognitoUserIds };
}

/** The snapshot of a user that message items carry. */
export function toParticipant(user: User): Participant {
  return { user_uuid: user.uuid, display_name: user.display_name, handle: user.handle };
}
