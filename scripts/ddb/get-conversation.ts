/** Pattern A from the command line: a conversation's messages, oldest first, with the capacity used. */
import { NotFoundError } from '../../functions/errors';
import { runAsMain, type ScriptContext, type ScriptSpec } from '../lib/cli';
import { DEFAULT_HANDLE, localTime, parseLimit, withRepositories } from '../lib/pattern-query';

const options = { limit: { type: 'string' } } as const;
export const spec: ScriptSpec<typeof options> = {
  name: 'ddb:get-conversation',
  summary: `Print a conversation's latest messages (pattern A), oldest first. Positional: the message group uuid (default: ${DEFAULT_HANDLE}'s newest conversation).`,
  options,
  usage: ['[uuid]        the message_group_uuid (see ddb:list-conversations)', '--limit N     the latest N messages (1-100, default 20)'],
  allowPositionals: true,
};

export async function main({ targets, values, positionals, out }: ScriptContext<typeof options>): Promise<void> {
  const limit = parseLimit(values.limit);
  await withRepositories(targets, out, async ({ messages, userByHandle }) => {
    let groupUuid = positionals[0];
    if (groupUuid === undefined) {
      const owner = await userByHandle(DEFAULT_HANDLE);
      groupUuid = (await messages.listMessageGroups(owner.uuid, { limit: 1 })).items[0]?.uuid;
      if (groupUuid === undefined) throw new NotFoundError(`@${DEFAULT_HANDLE} has no conversations: run npm run ddb:seed`);
    }
    const group = await messages.getGroup(groupUuid);
    if (!group) {
      const page = await messages.listMessages(groupUuid, { limit: 1 });
      // Messages without a group item: a conversation the original wrote, not yet migrated.
      throw new NotFoundError(
        page.items.length > 0
          ? `Message group ${groupUuid} has messages but no group item: the table was written by the original; run npm run ddb:migrate`
          : `No message group ${groupUuid}`,
      );
    }
    const page = await messages.listMessages(groupUuid, { limit });
    out.log(`Conversation ${groupUuid} between @${group.members[0].handle} and @${group.members[1].handle} (latest ${page.items.length}):`);
    for (const message of page.items) {
      out.log(`  @${message.handle.padEnd(14)} ${localTime(message.created_at).padEnd(22)} ${message.message}`);
    }
  });
}

if (require.main === module) runAsMain(spec, main);
