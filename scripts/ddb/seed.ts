/**
 * Seeds the conversations of `lib/seed-conversations.ts` (andrewbrown with bayko, and with
 * londo), each written in one transaction with its group and both summaries. A pair that
 * already has a conversation is skipped (a pair item, or a summary such as the original
 * wrote), so re-running never duplicates.
 */
import { createPgPool } from '../../functions/clients/postgres-pool';
import { NotFoundError } from '../../functions/errors';
import { createUsersRepository, toParticipant } from '../../functions/data/users-repository';
import { createTableAdmin } from '../lib/table-admin';
import { runAsMain, type ScriptContext, type ScriptSpec, type NoOptions } from '../lib/cli';
import { SEED_CONVERSATIONS, type SeedConversation } from '../lib/seed-conversations';
import { databaseUrlOf, describeTarget, documentClientOf } from '../lib/targets';

export const spec: ScriptSpec<NoOptions> = {
  name: 'ddb:seed',
  summary: "Seed the seed users' conversations (needs db:seed first). Pairs that already have a group are skipped.",
};

/** The conversation's messages, ending an hour before `now`, spaced out over the days before. */
export function conversationTimeline(conversation: SeedConversation, now: number): { speaker: number; text: string; createdAt: string }[] {
  const hour = 3_600_000;
  const count = conversation.lines.length;
  return conversation.lines.map((text, index) => ({
    speaker: index % 2,
    text,
    // A few minutes of deterministic jitter keeps the timestamps from looking machine-made.
    createdAt: new Date(now - hour - (count - 1 - index) * conversation.spacingHours * hour + ((index * 7919) % 17) * 60_000).toISOString(),
  }));
}

export async function main({ targets, out }: ScriptContext<NoOptions>): Promise<void> {
  const name = targets.tableName;
  const client = documentClientOf(targets);
  const pool = createPgPool(databaseUrlOf(targets), 2);
  try {
    const admin = createTableAdmin(client, name);
    const users = createUsersRepository(pool);
    const handles = [...new Set(SEED_CONVERSATIONS.flatMap((conversation) => conversation.handles))];
    const found = await users.findByHandles(handles);
    const missing = handles.filter((handle) => !found.some((user) => user.handle === handle));
    if (missing.length > 0) throw new NotFoundError(`Seed users missing from PostgreSQL: ${missing.join(', ')}; run npm run db:seed first`);
    const byHandle = new Map(found.map((user) => [user.handle, toParticipant(user)]));

    out.log(`Seeding ${describeTarget(targets)}`);
    const now = Date.now();
    for (const conversation of SEED_CONVERSATIONS) {
      const members = conversation.handles.map((handle) => byHandle.get(handle)!) as [ReturnType<typeof toParticipant>, ReturnType<typeof toParticipant>];
      const messages = conversationTimeline(conversation, now).map(({ speaker, text, createdAt }) => ({ sender: members[speaker]!, text, createdAt }));
      const pair = conversation.handles.join(' and ');
      // A table written by the original has conversations without pair items: look for those too.
      const existing = await admin.findConversation(members[0].user_uuid, members[1].user_uuid);
      if (existing !== undefined) {
        out.log(`  ${pair}: already have a group, skipped (group ${existing})`);
        continue;
      }
      const groupUuid = await admin.importConversation(members, messages);
      out.log(groupUuid ? `  ${pair}: ${messages.length} messages in group ${groupUuid}` : `  ${pair}: already have a group, skipped`);
    }
  } finally {
    client.destroy();
    await pool.end();
  }
}

if (require.main === module) runAsMain(spec, main);
