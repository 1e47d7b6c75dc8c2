/** Creates the messages table (keys, GSI, stream) from the model's definition. Idempotent. */
import { runAsMain, type ScriptContext, type ScriptSpec } from '../lib/cli';
import { ensureTable } from '../lib/table';
import { describeTarget, documentClientOf } from '../lib/targets';

export const spec: ScriptSpec<{}> = {
  name: 'ddb:schema-load',
  summary: 'Create the cruddur-messages table with its GSI and stream (an existing table is reported, exit 0). TABLE_NAME overrides the name.',
};

export async function main({ targets, out }: ScriptContext<{}>): Promise<void> {
  const name = targets.tableName;
  const client = documentClientOf(targets);
  try {
    const outcome = await ensureTable(client, name);
    out.log(outcome === 'created' ? `Created ${describeTarget(targets)}` : `Table ${name} already exists (${describeTarget(targets)}): nothing to do`);
  } finally {
    client.destroy();
  }
}

if (require.main === module) runAsMain(spec, main);
