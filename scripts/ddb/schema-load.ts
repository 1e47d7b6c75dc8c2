/**
 * Creates the messages table (keys, GSI, stream) from the model's definition, or checks an
 * existing one against it: a table that cannot work (other keys, no stream, a stream without
 * new images) is reported with the fix and exit 1; one that works is reported as ready.
 */
import { runAsMain, type ScriptContext, type ScriptSpec, type NoOptions } from '../lib/cli';
import { checkTable, ensureTable } from '../lib/table';
import { describeTarget, documentClientOf } from '../lib/targets';

export const spec: ScriptSpec<NoOptions> = {
  name: 'ddb:schema-load',
  summary:
    'Create the cruddur-messages table with its GSI and stream, or check an existing table of that name (keys, GSI, stream) ' +
    'and say how to fix what differs. TABLE_NAME overrides the name.',
};

export async function main({ targets, out }: ScriptContext<NoOptions>): Promise<number> {
  const name = targets.tableName;
  const client = documentClientOf(targets);
  try {
    const outcome = await ensureTable(client, name);
    if (outcome === 'created') {
      out.log(`Created ${describeTarget(targets)}`);
      return 0;
    }
    const awsCli = targets.dynamodbEndpoint === undefined ? 'aws dynamodb' : `aws dynamodb --endpoint-url ${targets.dynamodbEndpoint}`;
    const problems = await checkTable(client, name, awsCli);
    const breaking = problems.filter((problem) => problem.severity === 'breaks');
    if (problems.length === 0) out.log(`Table ${name} already exists (${describeTarget(targets)}) and matches the model: ready`);
    else
      out.log(
        `Table ${name} already exists (${describeTarget(targets)}) ${breaking.length > 0 ? 'but cannot serve Cruddur messaging as it is' : 'and works, but differs from the model'}:`,
      );
    for (const problem of problems) {
      out.log(`  ${problem.severity === 'breaks' ? 'problem' : 'note'}: ${problem.what}`);
      out.log(`    fix: ${problem.fix}`);
    }
    if (breaking.length > 0) out.log('Fix the problems above, then run npm run ddb:schema-load again.');
    return breaking.length > 0 ? 1 : 0;
  } finally {
    client.destroy();
  }
}

if (require.main === module) runAsMain(spec, main);
