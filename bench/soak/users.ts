/**
 * The soak's simulated people: real rows in `public.users`, real users of the local Cognito
 * pool and real access tokens, so every soak request passes the gateway's JWT check and
 * the functions' lookup by `sub` exactly as a signed-in person's would.
 */
import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type { Pool } from 'pg';
import { createUsersRepository } from '../../functions/data/users-repository';
import { ensurePoolUser, signIn, type LocalPool } from '../../scripts/lib/cognito';
import { LOCAL_USER_PASSWORD } from '../../scripts/lib/seed-users';

export interface SoakUser {
  uuid: string;
  handle: string;
  display_name: string;
  accessToken: string;
}

/** The `sub` claim of a JWT (already verified by whoever issued it: the local pool). */
function subOf(accessToken: string): string {
  const payload = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: unknown };
  if (typeof payload.sub !== 'string') throw new Error('The access token has no sub claim');
  return payload.sub;
}

export interface CreateSoakUsersOptions {
  count: number;
  pool: Pool;
  cognito: CognitoIdentityProviderClient;
  localPool: LocalPool;
  /** Requests to Cognito at once: cognito-local writes one JSON file, so more does not help. */
  concurrency?: number;
  progress?: (line: string) => void;
}

/**
 * Creates `count` users `soak<run>_<n>` (a fresh run id, so runs never collide) in
 * PostgreSQL and the pool, signs each in and links `cognito_user_id`.
 */
export async function createSoakUsers(options: CreateSoakUsersOptions): Promise<SoakUser[]> {
  const run = randomBytes(3).toString('hex');
  const people = Array.from({ length: options.count }, (_, index) => ({
    handle: `soak${run}_${index + 1}`,
    display_name: `Soak ${run} ${index + 1}`,
    email: `soak${run}_${index + 1}@example.test`,
  }));
  const inserted = await options.pool.query<{ uuid: string; handle: string }>(
    `INSERT INTO public.users (display_name, handle, email)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
     RETURNING uuid::text AS uuid, handle`,
    [people.map((person) => person.display_name), people.map((person) => person.handle), people.map((person) => person.email)],
  );
  const uuidOf = new Map(inserted.rows.map((row) => [row.handle, row.uuid]));

  const began = Date.now();
  let done = 0;
  const limit = pLimit(options.concurrency ?? 8);
  const signInOne = async (person: (typeof people)[number]) => {
    await ensurePoolUser(options.cognito, options.localPool.userPoolId, person, LOCAL_USER_PASSWORD);
    const { accessToken } = await signIn(options.cognito, options.localPool.clientId, person.handle, LOCAL_USER_PASSWORD);
    done += 1;
    if (done % 10 === 0 || done === people.length) {
      options.progress?.(`  ${done}/${people.length} users signed in (${((Date.now() - began) / 1000).toFixed(1)} s)`);
    }
    return accessToken;
  };
  const tokens = await Promise.all(people.map((person) => limit(() => signInOne(person))));
  const subs = new Map(people.map((person, index) => [person.handle, subOf(tokens[index]!)]));
  await createUsersRepository(options.pool).setCognitoUserIds(subs);
  return people.map((person, index) => ({
    uuid: uuidOf.get(person.handle)!,
    handle: person.handle,
    display_name: person.display_name,
    accessToken: tokens[index]!,
  }));
}
