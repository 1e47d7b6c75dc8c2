/** The PostgreSQL adapter against the embedded PostgreSQL, through the ordinary pg driver. */
import type { Pool } from 'pg';
import { createUsersRepository, toParticipant } from '../../functions/data/users-repository';
import { createTestPool, insertUsers, unique } from '../support/services';

describe('users repository', () => {
  let pool: Pool;
  beforeAll(async () => {
    pool = await createTestPool();
  });
  afterAll(() => pool.end());

  it('finds users by handle, by several handles and by cognito_user_id', async () => {
    // Prepare
    const [ann, ben] = await insertUsers(pool, 2, 'repo');
    const repository = createUsersRepository(pool);
    const sub = unique('sub-');

    // Act
    const updated = await repository.setCognitoUserIds(
      new Map([
        [ann!.handle, sub],
        [unique('nobody'), 'x'],
      ]),
    );

    // Assess
    expect(updated).toEqual([ann!.handle]);
    expect(await repository.findByCognitoUserId(sub)).toMatchObject({ uuid: ann!.uuid, handle: ann!.handle, cognito_user_id: sub });
    expect(await repository.findByHandle(ben!.handle)).toMatchObject({ uuid: ben!.uuid, display_name: ben!.display_name });
    expect((await repository.findByHandles([ann!.handle, ben!.handle, 'missing'])).map((u) => u.handle).sort()).toEqual([ann!.handle, ben!.handle].sort());
    expect(await repository.findByHandle(unique('missing'))).toBeUndefined();
    expect(await repository.findByHandles([])).toEqual([]);
    expect(toParticipant((await repository.findByHandle(ann!.handle))!)).toEqual({
      user_uuid: ann!.uuid,
      display_name: ann!.display_name,
      handle: ann!.handle,
    });
  });

  it('treats handles as data, not SQL', async () => {
    // Prepare
    const repository = createUsersRepository(pool);

    // Act
    const found = await repository.findByHandle("x' OR '1'='1");

    // Assess
    expect(found).toBeUndefined();
  });
});
