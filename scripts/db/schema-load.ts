/** Creates the users table in PostgreSQL. Idempotent. */
import { runAsMain, type ScriptContext, type ScriptSpec, type NoOptions } from '../lib/cli';
import { withPool } from '../lib/postgres';
import { applyUsersSchema, usersTableExists } from '../lib/users-schema';

export const spec: ScriptSpec<NoOptions> = {
  name: 'db:schema-load',
  summary: 'Create public.users (an existing table is kept). Targets DATABASE_URL or the embedded PostgreSQL; PROD_CONNECTION_URL with --prod.',
};

export async function main({ targets, out }: ScriptContext<NoOptions>): Promise<void> {
  await withPool(targets, async (pool) => {
    const existed = await usersTableExists(pool);
    await applyUsersSchema(pool);
    out.log(existed ? 'Table public.users already exists: indexes checked' : 'Created table public.users');
  });
}

if (require.main === module) runAsMain(spec, main);
