/** Deletes the messages table, after confirmation unless --yes. */
import { createInterface } from 'node:readline/promises';
import { DeleteTableCommand, ResourceNotFoundException, waitUntilTableNotExists, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { runAsMain, UsageError, type ScriptContext, type ScriptSpec } from '../lib/cli';
import { describeTarget, documentClientOf } from '../lib/targets';

const options = { yes: { type: 'boolean', short: 'y' } } as const;
export const spec: ScriptSpec<typeof options> = {
  name: 'ddb:drop',
  summary: 'Delete the messages table and everything in it.',
  options,
  usage: ['-y, --yes     do not ask for confirmation'],
};

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new UsageError('Refusing to drop without confirmation: no terminal to ask on; pass --yes');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export async function main({ targets, values, out }: ScriptContext<typeof options>): Promise<number> {
  const name = targets.tableName;
  if (!values.yes && !(await confirm(`Delete ${describeTarget(targets)} and all its items? [y/N] `))) {
    out.error('Not dropped.');
    return 1;
  }
  const client = documentClientOf(targets);
  try {
    await client.send(new DeleteTableCommand({ TableName: name }));
    await waitUntilTableNotExists({ client: client as unknown as DynamoDBClient, maxWaitTime: 120, minDelay: 1, maxDelay: 5 }, { TableName: name });
    out.log(`Dropped ${describeTarget(targets)}`);
    return 0;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    out.log(`Table ${name} does not exist: nothing to drop`);
    return 0;
  } finally {
    client.destroy();
  }
}

if (require.main === module) runAsMain(spec, main);
