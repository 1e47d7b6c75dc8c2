/** Creates the messages table (keys, GSI, stream) from the model's definition. Idempotent. */
import { runAsMain, type ScriptContext, type ScriptSpec } from '../lib/cli';
import { asLowLevel, describeTarget, scriptDocumentClient } from '../lib/dynamodb';
import { ensureTable } from '../lib/table';
import { tableName } from '../lib/targets';

export const spec: ScriptSpec<{}> = {
  name: 'ddb:schema-load',
  summary: 'Create the cruddur-messages table with its GSI and stream (an existing table is reported, exit 0). TABLE_NAME overrides the name.',
};

export async function main({ prod, out }: ScriptContext<{}>): Promise<void> {
  const name = tableName();
  const client = scriptDocumentClient(prod);
  try {
    const outcome = await ensureTable(asLowLevel(client), name);
    out.log(outcome === 'created' ? `Created ${describeTarget(prod, name)}` : `Table ${name} already exists (${describeTarget(prod, name)}): nothing to do`);
  } finally {
    client.destroy();
  }
}

if (require.main === module) runAsMain(spec, main);
