/**
 * The messaging API's domain: who the caller is, what they may see and write, and which
 * access pattern answers. Handlers hand it raw request values; it validates them, resolves
 * identities, checks membership and calls the repository. It knows nothing of HTTP.
 */
import { createHash } from 'node:crypto';
import { TtlCache } from './cache';
import { NotFoundError, RateLimitedError, ServiceBusyError, UnregisteredCallerError, ValidationError } from '../errors';
import type { RateDecision } from '../data/rate-limit-repository';
import {
  IdempotencyKeyTakenError,
  type CreatedMessage,
  type MessagesRepository,
  type Page,
  type ReadMarkerView,
  type UnreadTotals,
} from '../data/messages-repository';
import type { CreatedMessageView, MessageGroupView, MessageView } from '../data/model';
import type { UserDirectory } from './user-directory';
import { toParticipant, type User } from '../data/users-repository';
import {
  ValidationCode,
  type CreateMessageRequest,
  parseCreateMessageRequest,
  parseHandleParameter,
  parseMarkReadRequest,
  parseMessageGroupUuid,
  parsePageRequest,
} from './validation';

/** Raw paging values of a list request, as the query string carried them. */
export interface PageQuery {
  limit?: string;
  cursor?: string;
}

/** `GET /api/users/@{handle}/short`'s answer. */
export interface UserShortView {
  uuid: string;
  handle: string;
  display_name: string;
}

/** The repository operations the API uses. */
export type MessagesStore = Pick<
  MessagesRepository,
  | 'listMessages'
  | 'listMessageGroups'
  | 'getGroup'
  | 'createMessage'
  | 'createMessageInNewGroup'
  | 'findIdempotencyRecord'
  | 'findMessageToMark'
  | 'markRead'
  | 'unreadTotals'
>;

/** What a create request asks for, as a short hash: a key's retries must ask the same. */
function requestHash(request: CreateMessageRequest): string {
  return createHash('sha256').update(JSON.stringify(request)).digest('base64url');
}

export interface MessagingDependencies {
  messages: MessagesStore;
  users: UserDirectory;
  /**
   * The member uuids of groups already read, by group uuid. A group's two members are fixed
   * when it is created, so a warm container need not read them again for every A and C
   * request (a consistent GetItem each, as long as the query or write itself). Only found
   * groups are cached. Default: a cache of this instance (10 minutes, 1000 groups).
   */
  groupMembers?: TtlCache<string, readonly string[]>;
  /**
   * Counts a message of the caller (by Cognito `sub`) against the caller's POST limit, or says
   * when the window ends. Absent: no limit (tests of other things).
   */
  postAllowance?: { take(sub: string): Promise<RateDecision>; describe: string };
}

export type Messaging = ReturnType<typeof createMessaging>;

// One answer for "no such group" and "not your group", so a uuid's existence does not leak.
const GROUP_NOT_FOUND = 'Message group not found';

export function createMessaging({ messages, users, groupMembers = new TtlCache({ ttlMs: 600_000, maxEntries: 1000 }), postAllowance }: MessagingDependencies) {
  /** The caller's user row. @throws UnregisteredCallerError */
  async function resolveCaller(sub: string): Promise<User> {
    const caller = await users.findByCognitoUserId(sub);
    if (caller === undefined) throw new UnregisteredCallerError();
    return caller;
  }

  /** A group's members (read strongly consistent, once per container), or undefined when there is no such group. */
  function membersOf(groupUuid: string): Promise<readonly string[] | undefined> {
    return groupMembers.getOrLoad(groupUuid, async (uuid) => (await messages.getGroup(uuid))?.member_uuids);
  }

  /** Passes when the caller is one of the members. @throws NotFoundError */
  function assertMember(members: readonly string[] | undefined, caller: User): void {
    if (members === undefined || !members.includes(caller.uuid)) throw new NotFoundError(GROUP_NOT_FOUND);
  }

  /**
   * The caller and a second lookup, at once (two round trips in parallel, not one after the
   * other), with the errors in the order the requests always had: who the caller is first,
   * then what the request says (`validate`), then the second lookup.
   */
  async function callerWith<P, T>(sub: string, parse: () => P, second: (parsed: P) => Promise<T>): Promise<{ caller: User; parsed: P; found: T }> {
    let request: { parsed: P } | { invalid: unknown };
    try {
      request = { parsed: parse() };
    } catch (invalid) {
      request = { invalid };
    }
    const lookup = 'parsed' in request ? second(request.parsed) : undefined;
    lookup?.catch(() => {}); // reported below, after the caller's own failure if any
    const caller = await resolveCaller(sub);
    if ('invalid' in request) throw request.invalid;
    return { caller, parsed: request.parsed, found: await lookup! };
  }

  async function userByHandle(handle: string): Promise<User> {
    const user = await users.findByHandle(handle);
    if (user === undefined) throw new NotFoundError(`No user has the handle @${handle}`);
    return user;
  }

  /** Pattern B: the caller's conversations, newest first. */
  async function listMessageGroups(sub: string, query: PageQuery): Promise<Page<MessageGroupView>> {
    const caller = await resolveCaller(sub);
    const page = parsePageRequest(query);
    return messages.listMessageGroups(caller.uuid, page);
  }

  /** Pattern A: a page of a conversation the caller is in, oldest first; the cursor goes back in time. */
  async function listMessages(sub: string, groupUuidParameter: string | undefined, query: PageQuery): Promise<Page<MessageView>> {
    const { caller, parsed, found } = await callerWith(
      sub,
      () => ({ groupUuid: parseMessageGroupUuid(groupUuidParameter), page: parsePageRequest(query) }),
      ({ groupUuid }) => membersOf(groupUuid),
    );
    assertMember(found, caller);
    return messages.listMessages(parsed.groupUuid, parsed.page);
  }

  /**
   * Pattern C (`message_group_uuid`: a group the caller is in) or D (`handle`: a person;
   * the pair's one group is created, race-free and all-or-nothing, or appended to), made
   * idempotent by the caller's `idempotencyKey` when there is one: the
   * same caller, key and request within a day get the first answer again (`replayed`), and
   * the message is stored once, also when two requests race; the same key with another
   * request is refused (`idempotency_key_reused`). Without a key, nothing extra is read or
   * written. Only a request that stored its message takes its key: one refused (422, 404)
   * may be corrected and sent again with it.
   */
  async function createMessage(
    sub: string,
    body: Record<string, unknown>,
    idempotencyKey?: string,
  ): Promise<{ answer: CreatedMessageView; replayed: boolean }> {
    // The caller's allowance is counted at once with the lookups (it is keyed by the token's
    // `sub`, not the user), and checked before anything is written.
    const allowance = postAllowance?.take(sub);
    allowance?.catch(() => {}); // reported below, after the lookups' own failures if any
    // The group's members (C) or the recipient (D), looked up at once with the caller.
    const {
      caller,
      parsed: request,
      found: other,
    } = await callerWith(
      sub,
      () => parseCreateMessageRequest(body),
      (parsed): Promise<readonly string[] | User | undefined> =>
        parsed.kind === 'existing-group' ? membersOf(parsed.messageGroupUuid) : userByHandle(parsed.recipientHandle),
    );
    const decision = await allowance;
    if (decision?.allowed === false) {
      throw new RateLimitedError(
        `Too many messages: at most ${postAllowance!.describe}; try again in ${decision.retryAfterSeconds} s`,
        decision.retryAfterSeconds,
      );
    }
    const claim = idempotencyKey === undefined ? undefined : { userUuid: caller.uuid, key: idempotencyKey, requestHash: requestHash(request) };
    const sender = toParticipant(caller);
    let created: CreatedMessage;
    try {
      if (request.kind === 'existing-group') {
        assertMember(other as readonly string[] | undefined, caller);
        created = await messages.createMessage(request.messageGroupUuid, sender, request.text, claim);
      } else {
        const recipient = other as User;
        // A group of one would be a pair item keyed on one uuid twice; the original never meant it.
        if (recipient.uuid === caller.uuid) throw new ValidationError([ValidationCode.messageToSelf]);
        created = await messages.createMessageInNewGroup(sender, toParticipant(recipient), request.text, claim);
      }
    } catch (error) {
      if (!(error instanceof IdempotencyKeyTakenError) || claim === undefined) throw error;
      // The key's first request stored its message (or is storing it this very moment): its answer.
      const record = error.record ?? (await messages.findIdempotencyRecord(caller.uuid, claim.key));
      if (record === undefined) throw new ServiceBusyError('The Idempotency-Key record expired while it was read', { cause: error });
      if (record.request_hash !== claim.requestHash) throw new ValidationError([ValidationCode.idempotencyKeyReused]);
      return { answer: record.response, replayed: true };
    }
    return { answer: created.answer, replayed: false };
  }

  /**
   * Marks a conversation the caller is in read, up to a message (`{"message_uuid"}`) or the
   * newest one (no body). A non-member gets pattern A's 404.
   */
  async function markRead(sub: string, groupUuidParameter: string | undefined, body: Record<string, unknown> | undefined): Promise<ReadMarkerView> {
    const { caller, parsed, found } = await callerWith(
      sub,
      () => ({ groupUuid: parseMessageGroupUuid(groupUuidParameter), messageUuid: parseMarkReadRequest(body) }),
      // The message to mark is looked up at once with the members: one round trip fewer. A
      // non-member's lookup costs a read and is discarded unseen (they get pattern A's 404).
      ({ groupUuid, messageUuid }) => Promise.all([membersOf(groupUuid), messages.findMessageToMark(groupUuid, messageUuid)]),
    );
    const [members, message] = found;
    assertMember(members, caller);
    return messages.markRead(parsed.groupUuid, toParticipant(caller), parsed.messageUuid, { message });
  }

  /** For a badge: the caller's conversations with unread messages, and how many messages. */
  async function unreadTotals(sub: string): Promise<UnreadTotals> {
    const caller = await resolveCaller(sub);
    return messages.unreadTotals(caller.uuid);
  }

  /**
   * A person's short profile, for the new-conversation page. Public, as profiles are in
   * Cruddur (the original's route needed no token): so it answers these three fields, and
   * nothing else about a user, ever.
   */
  async function getUserShort(handleParameter: string | undefined): Promise<UserShortView> {
    const user = await userByHandle(parseHandleParameter(handleParameter));
    return { uuid: user.uuid, handle: user.handle, display_name: user.display_name };
  }

  return { listMessageGroups, listMessages, createMessage, markRead, unreadTotals, getUserShort };
}
