/** Prints every item of the messages table, one JSON line each (the original's scan). */
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { runAsMain, type ScriptContext, type ScriptSpec } from '../lib/cli';
import { describeTarget, documentClientOf } from '../lib/targets';

const options = { limit: { type: 'string' } } as const;
export const spec: ScriptSpec<typeof options> = {
  name: 'ddb:scan',
  summary: 'Print every item of the messages table as JSON lines, then the count.',
  options,
  usage: ['--limit N     stop after N items'],
};

export async function main({ targets, values, out }: ScriptContext<typeof options>): Promise<void> {
  const name = targets.tableName;
  const limit = values.limit === undefined ? Infinity : Number(values.limit);
  if (!(limit > 0)) throw new Error('--limit must be a positive number');
  const client = documentClientOf(targets);
  let count = 0;
  try {
    out.error(`Scanning ${describeTarget(targets)}`);
    scan: for await (const page of paginateScan({ client }, { TableName: name })) {
      for (const item of page.Items ?? []) {
        out.log(JSON.stringify(item));
        if (++count >= limit) break scan;
      }
    }
    out.error(`${count} items`);
  } finally {
    client.destroy();
  }
}

if (require.main === module) runAsMain(spec, main);
