/** Pattern B from the command line: a user's conversations, newest first, with the capacity used. */
import { runAsMain, type ScriptContext, type ScriptSpec } from '../lib/cli';
import { DEFAULT_HANDLE, localTime, parseLimit, withRepositories } from '../lib/pattern-query';

const options = { limit: { type: 'string' } } as const;
export const spec: ScriptSpec<typeof options> = {
  name: 'ddb:list-conversations',
  summary: `List a user's conversations (pattern B), newest first. Positional: the handle (default ${DEFAULT_HANDLE}).`,
  options,
  usage: ['[handle]      whose conversations', '--limit N     at most N (1-100, default 20)'],
  allowPositionals: true,
};

export async function main({ targets, values, positionals, out }: ScriptContext<typeof options>): Promise<void> {
  const handle = positionals[0] ?? DEFAULT_HANDLE;
  const limit = parseLimit(values.limit);
  await withRepositories(targets, out, async ({ messages, userByHandle }) => {
    const user = await userByHandle(handle);
    const page = await messages.listMessageGroups(user.uuid, { limit });
    out.log(`Conversations of @${handle} (${page.items.length}${page.nextCursor ? ', more exist' : ''}):`);
    for (const group of page.items) {
      out.log(`  ${group.uuid}  @${group.handle.padEnd(14)} ${localTime(group.created_at).padEnd(22)} ${group.message}`);
    }
  });
}

if (require.main === module) runAsMain(spec, main);
