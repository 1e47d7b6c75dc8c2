/** The seed users of the original system, shared by the PostgreSQL seed and the local user pool. */
export interface SeedUser {
  display_name: string;
  handle: string;
  email: string;
}

export const SEED_USERS: readonly SeedUser[] = [
  { display_name: 'Andrew Brown', handle: 'andrewbrown', email: 'andrew@exampro.co' },
  { display_name: 'Andrew Bayko', handle: 'bayko', email: 'bayko@exampro.co' },
  { display_name: 'Londo Mollari', handle: 'londo', email: 'lmollari@centari.com' },
];

/**
 * The password of every seed user in the local user pool. Local only: the local pool is
 * never reachable from outside this machine.
 */
export const LOCAL_USER_PASSWORD = 'Cruddur-local-1!';
