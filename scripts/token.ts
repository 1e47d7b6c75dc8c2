/**
 * `npm run token -- <handle>`: signs a seed user in to the local user pool and prints the
 * access token, and nothing else, so `TOKEN=$(npm run -s token -- bayko)` works. Errors go
 * to stderr with a non-zero exit.
 */
import { runAsMain, UsageError, type ScriptContext, type ScriptSpec, type NoOptions } from './lib/cli';
import { createCognitoClient, findLocalPool, signIn } from './lib/cognito';
import { LOCAL_USER_PASSWORD, SEED_USERS } from './lib/seed-users';

export const spec: ScriptSpec<NoOptions> = {
  name: 'token',
  summary: `Print an access token of a seed user of the local user pool (${SEED_USERS.map((user) => user.handle).join(', ')}), for Authorization: Bearer. Needs npm start.`,
  usage: ['<handle>      the user to sign in as, e.g. bayko'],
  allowPositionals: true,
};

export async function main({ prod, targets, positionals, out }: ScriptContext<NoOptions>): Promise<void> {
  if (prod) throw new UsageError('token signs in to the local user pool only (seed users have a local password)');
  if (positionals.length !== 1) throw new UsageError('give one handle, e.g. npm run -s token -- bayko');
  const handle = positionals[0]!.replace(/^@/, '');
  const cognito = createCognitoClient(targets.cognitoEndpoint);
  try {
    const pool = await findLocalPool(cognito);
    let tokens: Awaited<ReturnType<typeof signIn>>;
    try {
      tokens = await signIn(cognito, pool.clientId, handle, LOCAL_USER_PASSWORD);
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'UserNotFoundException' || name === 'NotAuthorizedException') {
        throw new UsageError(`cannot sign in as "${handle}" with the local password; seed users: ${SEED_USERS.map((user) => user.handle).join(', ')}`);
      }
      throw error;
    }
    out.log(tokens.accessToken);
  } finally {
    cognito.destroy();
  }
}

if (require.main === module) runAsMain(spec, main);
