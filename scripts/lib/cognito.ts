/**
 * The user pool operations the scripts need: the local pool's set-up, listing every user
 * (following PaginationToken: the original read only the first 60, defect 8) and sign-in.
 */
import {
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  InitiateAuthCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
  ListUsersCommand,
  UsernameExistsException,
  type UserType,
} from '@aws-sdk/client-cognito-identity-provider';
import { NotFoundError } from '../../functions/errors';
import { localClientConfig } from '../../local/aws';

const LOCAL_POOL_NAME = 'cruddur-local';
const LOCAL_CLIENT_NAME = 'cruddur-frontend';

export function createCognitoClient(endpoint: string | undefined): CognitoIdentityProviderClient {
  return endpoint === undefined ? new CognitoIdentityProviderClient({}) : new CognitoIdentityProviderClient(localClientConfig(endpoint));
}

export interface LocalPool {
  userPoolId: string;
  clientId: string;
}

/** Finds the local pool and its app client by name, creating them when missing. Idempotent. */
export async function ensureLocalPool(client: CognitoIdentityProviderClient, poolName = LOCAL_POOL_NAME): Promise<LocalPool> {
  const pools = await client.send(new ListUserPoolsCommand({ MaxResults: 60 }));
  let userPoolId = pools.UserPools?.find((pool) => pool.Name === poolName)?.Id;
  if (userPoolId === undefined) {
    const created = await client.send(new CreateUserPoolCommand({ PoolName: poolName, UsernameAttributes: [] }));
    userPoolId = created.UserPool!.Id!;
  }
  const clients = await client.send(new ListUserPoolClientsCommand({ UserPoolId: userPoolId, MaxResults: 60 }));
  let clientId = clients.UserPoolClients?.find((appClient) => appClient.ClientName === LOCAL_CLIENT_NAME)?.ClientId;
  if (clientId === undefined) {
    const created = await client.send(
      new CreateUserPoolClientCommand({
        UserPoolId: userPoolId,
        ClientName: LOCAL_CLIENT_NAME,
        ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      }),
    );
    clientId = created.UserPoolClient!.ClientId!;
  }
  return { userPoolId, clientId };
}

/** The local pool, which `npm start` creates. @throws NotFoundError when it does not exist. */
export async function findLocalPool(client: CognitoIdentityProviderClient, poolName = LOCAL_POOL_NAME): Promise<LocalPool> {
  const pools = await client.send(new ListUserPoolsCommand({ MaxResults: 60 }));
  const userPoolId = pools.UserPools?.find((pool) => pool.Name === poolName)?.Id;
  if (userPoolId === undefined) throw new NotFoundError(`The local user pool "${poolName}" does not exist: start the local services with npm start`);
  const clients = await client.send(new ListUserPoolClientsCommand({ UserPoolId: userPoolId, MaxResults: 60 }));
  const clientId = clients.UserPoolClients?.find((appClient) => appClient.ClientName === LOCAL_CLIENT_NAME)?.ClientId;
  if (clientId === undefined) throw new NotFoundError(`The local user pool has no app client "${LOCAL_CLIENT_NAME}": restart npm start`);
  return { userPoolId, clientId };
}

/** Creates a confirmed user (username = handle) with a permanent password; existing users are left alone. Returns true when created. */
export async function ensurePoolUser(
  client: CognitoIdentityProviderClient,
  userPoolId: string,
  user: { handle: string; email: string; display_name: string },
  password: string,
): Promise<boolean> {
  try {
    await client.send(
      new AdminCreateUserCommand({
        UserPoolId: userPoolId,
        Username: user.handle,
        MessageAction: 'SUPPRESS',
        UserAttributes: [
          { Name: 'email', Value: user.email },
          { Name: 'email_verified', Value: 'true' },
          { Name: 'preferred_username', Value: user.handle },
          { Name: 'name', Value: user.display_name },
        ],
      }),
    );
  } catch (error) {
    if (error instanceof UsernameExistsException || (error as Error).name === 'UsernameExistsException') return false;
    throw error;
  }
  await client.send(new AdminSetUserPasswordCommand({ UserPoolId: userPoolId, Username: user.handle, Password: password, Permanent: true }));
  return true;
}

/** Every user of a pool, page by page. */
export async function listAllPoolUsers(client: CognitoIdentityProviderClient, userPoolId: string, onPage?: (count: number) => void): Promise<UserType[]> {
  const users: UserType[] = [];
  let paginationToken: string | undefined;
  do {
    const page = await client.send(
      new ListUsersCommand({ UserPoolId: userPoolId, AttributesToGet: ['preferred_username', 'sub'], Limit: 60, PaginationToken: paginationToken }),
    );
    users.push(...(page.Users ?? []));
    onPage?.(users.length);
    paginationToken = page.PaginationToken;
  } while (paginationToken);
  return users;
}

export function attributeOf(user: UserType, name: string): string | undefined {
  return user.Attributes?.find((attribute) => attribute.Name === name)?.Value;
}

/** Signs a user in with USER_PASSWORD_AUTH and returns the tokens. */
export async function signIn(client: CognitoIdentityProviderClient, clientId: string, username: string, password: string) {
  const output = await client.send(
    new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: username, PASSWORD: password } }),
  );
  const result = output.AuthenticationResult;
  if (!result?.AccessToken || !result.IdToken)
    throw new Error(`Sign-in of ${username} returned no tokens${output.ChallengeName ? ` (challenge ${output.ChallengeName})` : ''}`);
  return { accessToken: result.AccessToken, idToken: result.IdToken };
}
