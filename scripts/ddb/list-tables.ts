/** Lists the tables of the target. */
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { runAsMain, type ScriptContext, type ScriptSpec, type NoOptions } from '../lib/cli';
import { documentClientOf } from '../lib/targets';

export const spec: ScriptSpec<NoOptions> = { name: 'ddb:list-tables', summary: 'List the DynamoDB tables.' };

export async function main({ targets, out }: ScriptContext<NoOptions>): Promise<void> {
  const client = documentClientOf(targets);
  try {
    const names: string[] = [];
    let start: string | undefined;
    do {
      const page = await client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
      names.push(...(page.TableNames ?? []));
      start = page.LastEvaluatedTableName;
    } while (start);
    if (names.length === 0) out.log('No tables.');
    for (const name of names) out.log(name);
  } finally {
    client.destroy();
  }
}

if (require.main === module) runAsMain(spec, main);
