/**
 * Sets `users.cognito_user_id` to the Cognito `sub` of the pool user whose
 * `preferred_username` equals the handle, for every user of the pool: it follows
 * PaginationToken (the original stopped at the first 60 users, defect 8).
 */
import { ConfigurationError } from '../../functions/errors';
import { createUsersRepository } from '../../functions/data/users-repository';
import { runAsMain, type ScriptContext, type ScriptSpec, type NoOptions } from '../lib/cli';
import { attributeOf, createCognitoClient, findLocalPool, listAllPoolUsers } from '../lib/cognito';
import { withPool } from '../lib/postgres';

export const spec: ScriptSpec<NoOptions> = {
  name: 'db:update-cognito-user-ids',
  summary:
    "Copy each Cognito user's sub into users.cognito_user_id, matching preferred_username to handle. " +
    'Local: the local pool; --prod: the pool in COGNITO_USER_POOL_ID. COGNITO_USER_POOL_ID also selects a local pool.',
};

export async function main({ prod, targets, out }: ScriptContext<NoOptions>): Promise<void> {
  const cognito = createCognitoClient(targets.cognitoEndpoint);
  try {
    const configuredPool = targets.userPoolId;
    if (prod && !configuredPool) throw new ConfigurationError('Set COGNITO_USER_POOL_ID to the user pool to read (e.g. us-east-1_AbCdEf123)');
    const userPoolId = configuredPool || (await findLocalPool(cognito)).userPoolId;

    const poolUsers = await listAllPoolUsers(cognito, userPoolId, (count) => out.log(`Read ${count} users from pool ${userPoolId}...`));
    const subByHandle = new Map<string, string>();
    const unusable: string[] = [];
    for (const user of poolUsers) {
      const handle = attributeOf(user, 'preferred_username');
      const sub = attributeOf(user, 'sub');
      if (handle && sub) subByHandle.set(handle, sub);
      else unusable.push(user.Username ?? '(no username)');
    }

    const updated = await withPool(targets, (pool) => createUsersRepository(pool).setCognitoUserIds(subByHandle));
    const unmatched = [...subByHandle.keys()].filter((handle) => !updated.includes(handle));
    out.log(`Updated cognito_user_id of ${updated.length} users (${poolUsers.length} users in the pool).`);
    if (unmatched.length > 0) out.log(`Pool users with no matching handle in PostgreSQL (${unmatched.length}): ${unmatched.sort().join(', ')}`);
    if (unusable.length > 0) out.log(`Pool users without preferred_username or sub (${unusable.length}): ${unusable.sort().join(', ')}`);
  } finally {
    cognito.destroy();
  }
}

if (require.main === module) runAsMain(spec, main);
