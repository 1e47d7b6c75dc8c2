/** Inserts the seed users (andrewbrown, bayko, londo); existing handles are left as they are. */
import { runAsMain, type ScriptContext, type ScriptSpec, type NoOptions } from '../lib/cli';
import { withPool } from '../lib/postgres';
import { SEED_USERS } from '../lib/seed-users';

export const spec: ScriptSpec<NoOptions> = {
  name: 'db:seed',
  summary: 'Insert the seed users into public.users (needs db:schema-load). Re-running adds nothing.',
};

export async function main({ targets, out }: ScriptContext<NoOptions>): Promise<void> {
  await withPool(targets, async (pool) => {
    const result = await pool.query<{ handle: string }>(
      `INSERT INTO public.users (display_name, handle, email)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
       ON CONFLICT (handle) DO NOTHING
       RETURNING handle`,
      [SEED_USERS.map((user) => user.display_name), SEED_USERS.map((user) => user.handle), SEED_USERS.map((user) => user.email)],
    );
    const inserted = result.rows.map((row) => row.handle);
    out.log(inserted.length > 0 ? `Inserted users: ${inserted.join(', ')}` : 'Seed users already present: nothing inserted');
  });
}

if (require.main === module) runAsMain(spec, main);
