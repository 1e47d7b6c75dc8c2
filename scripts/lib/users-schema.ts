/** The users table of the original (`public.users`), created idempotently. */
import type { Pool } from 'pg';

/**
 * As the original, plus a unique handle (the API resolves people by handle, so two rows
 * with one handle would make a message's recipient ambiguous) and an index on
 * cognito_user_id (every API request looks the caller up by it).
 */
const USERS_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS public.users (
  uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  display_name text NOT NULL,
  handle text NOT NULL,
  email text NOT NULL,
  cognito_user_id text,
  created_at timestamp NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS users_handle_key ON public.users (handle);
CREATE INDEX IF NOT EXISTS users_cognito_user_id_idx ON public.users (cognito_user_id);
`;

/** Creates the users table and its indexes unless they exist. */
export async function applyUsersSchema(pool: Pool): Promise<void> {
  await pool.query(USERS_SCHEMA_SQL);
}

export async function usersTableExists(pool: Pool): Promise<boolean> {
  const result = await pool.query<{ exists: boolean }>("SELECT to_regclass('public.users') IS NOT NULL AS exists");
  return result.rows[0]?.exists ?? false;
}
