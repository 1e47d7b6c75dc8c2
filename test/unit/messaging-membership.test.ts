import { randomUUID } from 'node:crypto';
import { NotFoundError } from '../../functions/errors';
import type { MessagesStore } from '../../functions/domain/conversations';
import { createMessaging } from '../../functions/domain/conversations';
import type { MessageGroupItem } from '../../functions/data/model';
import type { User } from '../../functions/data/users-repository';

const user = (handle: string): User => ({ uuid: randomUUID(), display_name: handle, handle, cognito_user_id: `sub-${handle}` });

/** An in-memory store whose groups can be added mid-test, counting the membership reads. */
function fakeStore() {
  const groups = new Map<string, MessageGroupItem>();
  const store = {
    getGroup: jest.fn(async (uuid: string) => groups.get(uuid)),
    listMessages: jest.fn(async () => ({ items: [] })),
    listMessageGroups: jest.fn(async () => ({ items: [] })),
    createMessage: jest.fn(),
    createMessageInNewGroup: jest.fn(),
  };
  const addGroup = (members: [User, User]) => {
    const uuid = randomUUID();
    groups.set(uuid, { member_uuids: [members[0].uuid, members[1].uuid] } as MessageGroupItem);
    return uuid;
  };
  return { store, addGroup };
}

function messagingOver(store: ReturnType<typeof fakeStore>['store'], people: User[]) {
  const bySub = new Map(people.map((person) => [person.cognito_user_id!, person]));
  return createMessaging({
    messages: store as unknown as MessagesStore,
    users: { findByCognitoUserId: async (sub) => bySub.get(sub), findByHandle: async () => undefined },
  });
}

describe('createMessaging membership checks', () => {
  it("reads a group's members once per instance for the members' A requests", async () => {
    // Prepare
    const [alice, bob] = [user('alice'), user('bob')];
    const { store, addGroup } = fakeStore();
    const group = addGroup([alice, bob]);
    const messaging = messagingOver(store, [alice, bob]);

    // Act
    await messaging.listMessages(alice.cognito_user_id!, group, {});
    await messaging.listMessages(bob.cognito_user_id!, group, {});
    await messaging.listMessages(alice.cognito_user_id!, group, {});

    // Assess
    expect(store.getGroup).toHaveBeenCalledTimes(1);
    expect(store.listMessages).toHaveBeenCalledTimes(3);
  });

  it("still refuses a non-member once the group's members are cached", async () => {
    // Prepare
    const [alice, bob, mallory] = [user('alice'), user('bob'), user('mallory')];
    const { store, addGroup } = fakeStore();
    const group = addGroup([alice, bob]);
    const messaging = messagingOver(store, [alice, bob, mallory]);
    await messaging.listMessages(alice.cognito_user_id!, group, {});

    // Act
    const read = messaging.listMessages(mallory.cognito_user_id!, group, {});

    // Assess
    await expect(read).rejects.toThrow(NotFoundError);
    expect(store.listMessages).toHaveBeenCalledTimes(1);
  });

  it('does not cache a missing group: it is found once created', async () => {
    // Prepare
    const [alice, bob] = [user('alice'), user('bob')];
    const { store, addGroup } = fakeStore();
    const messaging = messagingOver(store, [alice, bob]);
    const missing = messaging.listMessages(alice.cognito_user_id!, randomUUID(), {});
    await expect(missing).rejects.toThrow(NotFoundError);
    const group = addGroup([alice, bob]);

    // Act
    const page = await messaging.listMessages(alice.cognito_user_id!, group, {});

    // Assess
    expect(page).toEqual({ items: [] });
  });

  it('looks the message to mark up at once with the members, and hands it on: one round trip fewer', async () => {
    // Prepare: the members' read stays pending until the message lookup has started.
    const [alice, bob, mallory] = [user('alice'), user('bob'), user('mallory')];
    const { store, addGroup } = fakeStore();
    const group = addGroup([alice, bob]);
    const newest = { sk: 'MSG#2026-12-05T05:00:00.000000+00:00#1', message_uuid: randomUUID() };
    let lookupStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => (lookupStarted = resolve));
    const readGroup = store.getGroup.getMockImplementation()!;
    store.getGroup.mockImplementation(async (uuid: string) => {
      await started;
      return readGroup(uuid);
    });
    const marked = { message_group_uuid: group, read_up_to: newest.message_uuid, read_at: 'now', unread_count: 0 };
    const markStore = Object.assign(store, {
      findMessageToMark: jest.fn(async () => {
        lookupStarted();
        return newest;
      }),
      markRead: jest.fn(async () => marked),
    });
    const messaging = messagingOver(markStore, [alice, bob, mallory]);

    // Act
    const answer = await messaging.markRead(bob.cognito_user_id!, group, undefined);
    const refused = messaging.markRead(mallory.cognito_user_id!, group, undefined);

    // Assess
    expect(answer).toBe(marked);
    expect(markStore.markRead).toHaveBeenCalledWith(group, expect.objectContaining({ user_uuid: bob.uuid }), undefined, { message: newest });
    await expect(refused).rejects.toThrow(NotFoundError);
    expect(markStore.markRead).toHaveBeenCalledTimes(1);
  });
});
