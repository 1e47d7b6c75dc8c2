/**
 * `npm run ddb:migrate`: upgrades a `cruddur-messages` table written by the original in
 * place (scripts/lib/migration.ts says what it does to it), with progress while it scans and
 * writes, and a closing report of what it did and what it could not place. Idempotent: a
 * second run, or a run after an interrupted one, finds what is done and does the rest.
 *
 * Stop the original's writers first (its Flask app and its stream lambda): the script refuses
 * to run while the table holds an original-format item written in the last `--quiet-minutes`.
 */
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import type { Pool } from 'pg';
import { createPgPool } from '../../functions/clients/postgres-pool';
import { runAsMain, UsageError, type Output, type ScriptContext, type ScriptSpec } from '../lib/cli';
import { executeMigration, offsetMinutes, planMigration, type ExecutionResult, type Item, type KnownUser, type MigrationPlan } from '../lib/migration';
import { databaseUrlOf, describeTarget, documentClientOf } from '../lib/targets';

const options = {
  'dry-run': { type: 'boolean' },
  'naive-offset': { type: 'string' },
  'quiet-minutes': { type: 'string' },
  force: { type: 'boolean' },
} as const;

export const spec: ScriptSpec<typeof options> = {
  name: 'ddb:migrate',
  summary:
    'Upgrade a table written by the original Cruddur code in place: a group item and a pair item for every conversation, exactly two summaries ' +
    'per group at its newest message, every message re-keyed with created_at. Idempotent and resumable. Stop the original writers first.',
  options,
  usage: [
    '--dry-run             plan and report, write nothing',
    '--naive-offset ±HH:MM the UTC offset of timestamps written without one (default +00:00: the original ran on UTC hosts)',
    '--quiet-minutes N     refuse while an original-format item is newer than N minutes (default 10): its writers are still running',
    '--force               run even so (the original writers must be stopped, or their new items stay unmigrated)',
  ],
};

/** Every item of the table, read consistently, with a progress line every 1000 items. */
async function scanTable(client: ReturnType<typeof documentClientOf>, tableName: string, out: Output): Promise<Item[]> {
  const items: Item[] = [];
  let nextReport = 1000;
  for await (const page of paginateScan({ client, pageSize: 500 }, { TableName: tableName, ConsistentRead: true })) {
    items.push(...(page.Items ?? []));
    if (items.length >= nextReport) {
      out.log(`  read ${items.length} items...`);
      nextReport += 1000;
    }
  }
  return items;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The users PostgreSQL knows among the uuids the table names. */
async function knownUsers(pool: Pool, items: readonly Item[]): Promise<Map<string, KnownUser>> {
  const uuids = new Set<string>();
  for (const item of items) {
    for (const value of [item.user_uuid, String(item.pk ?? '').replace(/^GRP#/, '')])
      if (typeof value === 'string' && UUID.test(value)) uuids.add(value.toLowerCase());
  }
  if (uuids.size === 0) return new Map();
  const result = await pool.query<KnownUser>('SELECT uuid::text AS uuid, handle, display_name FROM public.users WHERE uuid = ANY($1::uuid[])', [[...uuids]]);
  return new Map(result.rows.map((row) => [row.uuid, row]));
}

function positiveNumber(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new UsageError(`--${name} must be a number of minutes, 0 or more, got "${value}"`);
  return parsed;
}

export async function main({ targets, values, out }: ScriptContext<typeof options>): Promise<number> {
  const naiveOffset = values['naive-offset'] ?? '+00:00';
  try {
    offsetMinutes(naiveOffset);
  } catch (error) {
    throw new UsageError(`--naive-offset: ${(error as Error).message}`);
  }
  const quietMinutes = positiveNumber(values['quiet-minutes'], 10, 'quiet-minutes');
  const dryRun = values['dry-run'] === true;
  const client = documentClientOf(targets);
  const pool = createPgPool(databaseUrlOf(targets), 1);
  try {
    out.log(
      `${dryRun ? 'Planning (dry run, nothing is written)' : 'Migrating'} ${describeTarget(targets)}; naive timestamps taken as UTC${naiveOffset === '+00:00' ? '' : naiveOffset}`,
    );
    out.log('Reading the table...');
    const items = await scanTable(client, targets.tableName, out);
    const users = await knownUsers(pool, items);
    const now = Date.now();
    const plan = planMigration(items, users, { naiveOffset, now });
    out.log(
      `  ${items.length} items read; ${plan.groups.length} group(s) to migrate, ${plan.groupsAlreadyMigrated} already migrated, ${plan.messages.length} message(s) to re-key`,
    );

    if (plan.newestOriginalWrite !== undefined && !values.force && Date.parse(plan.newestOriginalWrite) > now - quietMinutes * 60_000) {
      out.error(
        `ddb:migrate: an item in the original's format was written at ${plan.newestOriginalWrite}, within the last ${quietMinutes} minutes: ` +
          "the original writers (its Flask app, its stream lambda) still seem to run. Stop them first (disable the lambda's event source mapping, " +
          'scale the app to zero), wait, and run again; --force runs anyway, --quiet-minutes changes the window.',
      );
      return 1;
    }

    let result: ExecutionResult | undefined;
    if (!dryRun) {
      out.log('Writing...');
      result = await executeMigration(client, targets.tableName, plan, { progress: (line) => out.log(line) });
    }
    report(plan, result, out);
    return plan.unplaced.length > 0 ? 1 : 0;
  } finally {
    client.destroy();
    await pool.end();
  }
}

function report(plan: MigrationPlan, result: ExecutionResult | undefined, out: Output): void {
  const wouldHave = (count: number, what: string) => (result === undefined ? `${count} ${what} (planned)` : `${count} ${what}`);
  const severalGroups = plan.pairs.filter((pair) => pair.groupUuids.length > 1);
  out.log('');
  out.log(result === undefined ? 'Plan:' : 'Done:');
  out.log(`  items read              ${plan.itemsRead}`);
  out.log(
    `  groups                  ${wouldHave(result?.groupsWritten ?? plan.groups.length, 'migrated')}, ${plan.groupsAlreadyMigrated} already migrated${result?.groupsSkipped ? `, ${result.groupsSkipped} written meanwhile by another run` : ''}; ${plan.groups.filter((group) => group.withoutMessages).length} without messages`,
  );
  out.log(
    `  summaries replaced      ${wouldHave(result?.summariesWritten ?? plan.groups.reduce((sum, group) => sum + group.putSummaries.length, 0), 'written')}, ${result?.summariesDeleted ?? plan.groups.reduce((sum, group) => sum + group.deleteSummaries.length, 0)} deleted`,
  );
  out.log(
    `  messages touched        ${wouldHave(result?.messagesMoved ?? plan.messages.length, 're-keyed with created_at')}${result?.messagesSkipped ? `, ${result.messagesSkipped} re-keyed meanwhile by another run` : ''}`,
  );
  out.log(
    `  pairs                   ${plan.pairs.length}; ${wouldHave(result?.pairsWritten ?? plan.pairs.filter((pair) => pair.write).length, 'pair item(s) written')}`,
  );
  out.log(
    `  pairs with several groups ${severalGroups.length}${severalGroups.length > 0 ? ': both people keep every group; new messages by handle go to the newest' : ''}`,
  );
  for (const pair of severalGroups) {
    out.log(
      `    @${pair.memberHandles.join(' and @')}: ${pair.groupUuids.length} groups, newest first: ${pair.groupUuids.join(', ')} (the pair item names ${pair.item.group_uuid})`,
    );
  }
  if (plan.unknownUsers.length > 0) {
    out.log(
      `  users unknown to PostgreSQL ${plan.unknownUsers.length}: their names come from the items. Add them to public.users (and run npm run db:update-cognito-user-ids) so they can sign in and be found by handle:`,
    );
    for (const user of plan.unknownUsers) out.log(`    @${user.handle} (${user.uuid})`);
  }
  out.log(`  could not place         ${plan.unplaced.length}${plan.unplaced.length > 0 ? ' item(s), left as they are:' : ''}`);
  for (const item of plan.unplaced) out.log(`    ${item.key.pk} / ${item.key.sk}: ${item.reason}; ${item.advice}`);
}

if (require.main === module) runAsMain(spec, main);
