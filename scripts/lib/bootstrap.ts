/**
 * Brings the local services to a usable state: both schemas loaded, seed data present,
 * the seed users in the local user pool and their `sub`s copied to PostgreSQL. Every step
 * is idempotent, so it runs on every `npm start`. The steps are the scripts themselves,
 * run in-process against the targets they are given.
 */
import { UpdateTableCommand, waitUntilTableExists, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { messagesTableSchema } from '../../functions/data/model';
import { ConfigurationError } from '../../functions/errors';
import { createPgPool } from '../../functions/clients/postgres-pool';
import { main as seedUsers } from '../db/seed';
import { main as updateCognitoUserIds } from '../db/update-cognito-user-ids';
import { main as seedConversations } from '../ddb/seed';
import { consoleOutput, type Output, type ScriptContext, type NoOptions } from './cli';
import { createCognitoClient, ensureLocalPool, ensurePoolUser, type LocalPool } from './cognito';
import { LOCAL_USER_PASSWORD, SEED_USERS } from './seed-users';
import { checkTable, enableTimeToLive, ensureTable, type AnyDynamoDBClient } from './table';
import { databaseUrlOf, documentClientOf, type Targets } from './targets';
import { applyUsersSchema } from './users-schema';

/**
 * An existing local table is checked against the model. One the original's `schema-load`
 * created has no stream: here, locally, it is enabled (the stream consumers need it); any other
 * problem stops the start with its fix. A table of the original's format is not migrated here:
 * `npm run ddb:migrate` does that, on request.
 */
async function adoptLocalTable(client: AnyDynamoDBClient, tableName: string, out: Output): Promise<void> {
  const problems = await checkTable(client, tableName);
  const noStream = problems.find((problem) => problem.kind === 'no-stream');
  if (noStream !== undefined) {
    await (client as DynamoDBClient).send(
      new UpdateTableCommand({ TableName: tableName, StreamSpecification: { StreamEnabled: true, StreamViewType: messagesTableSchema.streamViewType } }),
    );
    await waitUntilTableExists({ client: client as DynamoDBClient, maxWaitTime: 60 }, { TableName: tableName });
    out.log(`  enabled the stream of table ${tableName}: it had none (as the original's schema-load left it)`);
  }
  if (problems.some((problem) => problem.kind === 'no-ttl')) {
    await enableTimeToLive(client, tableName);
    out.log(`  enabled the time to live of table ${tableName} (${messagesTableSchema.timeToLiveAttribute})`);
  }
  const breaking = problems.filter((problem) => problem.severity === 'breaks' && problem !== noStream);
  if (breaking.length > 0)
    throw new ConfigurationError(
      `Table ${tableName} cannot serve Cruddur messaging: ${breaking.map((problem) => `${problem.what} (fix: ${problem.fix})`).join('; ')}`,
    );
}

/** Runs a script's main in-process with its output indented under the bootstrap's. */
async function runStep(main: (context: ScriptContext<NoOptions>) => Promise<unknown>, targets: Targets, out: Output): Promise<void> {
  const indented: Output = { log: (line) => out.log(`  ${line}`), error: (line) => out.error(`  ${line}`) };
  await main({ prod: false, targets, env: {}, values: {}, positionals: [], out: indented });
}

export async function bootstrapLocalData(targets: Targets, out: Output = consoleOutput): Promise<LocalPool> {
  const dynamodb = documentClientOf(targets);
  const pool = createPgPool(databaseUrlOf(targets), 1);
  const cognito = createCognitoClient(targets.cognitoEndpoint);
  try {
    out.log('Loading schemas...');
    await applyUsersSchema(pool);
    const table = await ensureTable(dynamodb, targets.tableName);
    out.log(`  PostgreSQL public.users ready; DynamoDB table ${targets.tableName} ${table === 'created' ? 'created' : 'already there'}`);
    if (table === 'exists') await adoptLocalTable(dynamodb, targets.tableName, out);

    out.log('Seeding PostgreSQL users...');
    await runStep(seedUsers, targets, out);
    out.log('Seeding conversations...');
    await runStep(seedConversations, targets, out);

    out.log('Setting up the local Cognito user pool...');
    const localPool = await ensureLocalPool(cognito);
    const created: string[] = [];
    for (const user of SEED_USERS) if (await ensurePoolUser(cognito, localPool.userPoolId, user, LOCAL_USER_PASSWORD)) created.push(user.handle);
    out.log(
      `  Pool ${localPool.userPoolId}, app client ${localPool.clientId}; ${created.length > 0 ? `created ${created.join(', ')}` : 'seed users already there'}`,
    );
    await runStep(updateCognitoUserIds, { ...targets, userPoolId: localPool.userPoolId }, out);
    return localPool;
  } finally {
    dynamodb.destroy();
    cognito.destroy();
    await pool.end();
  }
}
