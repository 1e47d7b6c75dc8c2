/**
 * Brings the local services to a usable state: both schemas loaded, seed data present,
 * the seed users in the local user pool and their `sub`s copied to PostgreSQL. Every step
 * is idempotent, so it runs on every `npm start`.
 */
import { createDocumentClient, createPgPool } from '../../functions/commons/clients';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { consoleOutput, type Output, type ScriptContext } from '../lib/cli';
import { createCognitoClient, ensureLocalPool, ensurePoolUser, type LocalPool } from '../lib/cognito';
import { LOCAL_USER_PASSWORD, SEED_USERS } from '../lib/seed-users';
import { ensureTable } from '../lib/table';
import { applyUsersSchema } from '../lib/users-schema';
import { main as seedUsers } from '../db/seed';
import { main as updateCognitoUserIds } from '../db/update-cognito-user-ids';
import { main as seedConversations } from '../ddb/seed';

export interface BootstrapTargets {
  dynamodbUrl: string;
  postgresUrl: string;
  cognitoUrl: string;
  tableName: string;
}

/** Runs a script's main in-process with its output indented under the bootstrap's. */
async function runStep(main: (context: ScriptContext<{}>) => Promise<unknown>, out: Output): Promise<void> {
  const indented: Output = { log: (line) => out.log(`  ${line}`), error: (line) => out.error(`  ${line}`) };
  await main({ prod: false, values: {}, positionals: [], out: indented });
}

export async function bootstrapLocalData(targets: BootstrapTargets, out: Output = consoleOutput): Promise<LocalPool> {
  const dynamodb = createDocumentClient({ endpoint: targets.dynamodbUrl });
  const pool = createPgPool(targets.postgresUrl, 1);
  const cognito = createCognitoClient(targets.cognitoUrl);
  try {
    out.log('Loading schemas...');
    await applyUsersSchema(pool);
    const table = await ensureTable(dynamodb as unknown as DynamoDBClient, targets.tableName);
    out.log(`  PostgreSQL public.users ready; DynamoDB table ${targets.tableName} ${table === 'created' ? 'created' : 'already there'}`);

    out.log('Seeding PostgreSQL users...');
    await runStep(seedUsers, out);
    out.log('Seeding conversations...');
    await runStep(seedConversations, out);

    out.log('Setting up the local Cognito user pool...');
    const localPool = await ensureLocalPool(cognito);
    const created: string[] = [];
    for (const user of SEED_USERS) if (await ensurePoolUser(cognito, localPool.userPoolId, user, LOCAL_USER_PASSWORD)) created.push(user.handle);
    out.log(`  Pool ${localPool.userPoolId}, app client ${localPool.clientId}; ${created.length > 0 ? `created ${created.join(', ')}` : 'seed users already there'}`);
    await runStep(updateCognitoUserIds, out);
    return localPool;
  } finally {
    dynamodb.destroy();
    cognito.destroy();
    await pool.end();
  }
}
