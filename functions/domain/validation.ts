/**
 * Input rules of the messaging API. Each failure is one of the original API's error codes
 * (answered 422 with the array of codes), so the Cruddur frontend keeps working; codes the
 * original did not have follow its `{field}_{problem}` naming.
 */
import { ValidationError } from '../errors';
import type { PageRequest } from '../data/messages-repository';

/** The original's limit, counted in characters (code points: an emoji counts once), after trimming. */
export const MESSAGE_MAX_CHARS = 1024;

export const DEFAULT_PAGE_LIMIT = 20;
const MAX_PAGE_LIMIT = 100;

/**
 * Handles: 1 to 32 letters, digits, `_`, `.` or `-`. The users table does not constrain
 * handles, so this is a shape filter that turns garbage into a 422 before any query, not
 * the authority on who exists (an unknown well-formed handle is a 404). The seed handles
 * (`andrewbrown`, `bayko`, `londo`) and Cognito-style `preferred_username`s fit.
 */
const HANDLE_PATTERN = /^[A-Za-z0-9_.-]{1,32}$/;

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// JSON can carry a lone surrogate (`"\ud800"`), which is not text and which DynamoDB rejects.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// Control characters other than tab and line breaks (NUL, ESC, BEL, C1 controls) are not
// something a person types: NUL truncates C strings and PostgreSQL text refuses it, and
// escape sequences rewrite terminals that show logs or `ddb:get-conversation` output.
const CONTROL_CHARACTER = /(?![\t\n\r])\p{Cc}/u;
// trim() removes whitespace only; a message of zero-width spaces, joiners, bidi marks or the
// Hangul filler shows up as an empty bubble, so it is as blank as one of spaces.
const VISIBLE_CHARACTER = /[^\p{White_Space}\p{Default_Ignorable_Code_Point}]/u;

/** The fields of `POST /api/messages`' body. */
const CREATE_MESSAGE_FIELDS: ReadonlySet<string> = new Set(['message', 'message_group_uuid', 'handle']);

/** Error codes of the API; the misspelt `reciever` is the original's and stays for compatibility. */
export const ValidationCode = {
  messageBlank: 'message_blank',
  messageInvalid: 'message_invalid',
  messageExceedMaxChars: 'message_exceed_max_chars',
  messageToSelf: 'message_to_self',
  receiverHandleBlank: 'user_reciever_handle_blank',
  receiverHandleInvalid: 'user_reciever_handle_invalid',
  messageGroupUuidBlank: 'message_group_uuid_blank',
  messageGroupUuidInvalid: 'message_group_uuid_invalid',
  handleInvalid: 'handle_invalid',
  limitInvalid: 'limit_invalid',
  cursorInvalid: 'cursor_invalid',
  bodyFieldUnknown: 'body_field_unknown',
  recipientAmbiguous: 'recipient_ambiguous',
  idempotencyKeyReused: 'idempotency_key_reused',
  messageUuidInvalid: 'message_uuid_invalid',
} as const;

type ValidationCodeValue = (typeof ValidationCode)[keyof typeof ValidationCode];

/** A checked input: its normalized value, or the codes of the rules it broke. */
export type Checked<T> = { value: T } | { codes: ValidationCodeValue[] };

/** Characters as people count them: code points, so an emoji is one. */
export function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

/** The trimmed message text, or the codes that make it unacceptable. */
export function checkMessageText(value: unknown): Checked<string> {
  if (value === undefined || value === null) return { codes: [ValidationCode.messageBlank] };
  if (typeof value !== 'string' || LONE_SURROGATE.test(value) || CONTROL_CHARACTER.test(value)) return { codes: [ValidationCode.messageInvalid] };
  const text = value.trim();
  if (!VISIBLE_CHARACTER.test(text)) return { codes: [ValidationCode.messageBlank] };
  if (characterCount(text) > MESSAGE_MAX_CHARS) return { codes: [ValidationCode.messageExceedMaxChars] };
  return { value: text };
}

/** A handle as written, without one optional leading `@` (the frontend's `/@handle` URLs), or undefined when malformed. */
function normalizeHandle(value: string): string | undefined {
  const handle = value.startsWith('@') ? value.slice(1) : value;
  return HANDLE_PATTERN.test(handle) ? handle : undefined;
}

/** The uuid in lower case (how this service writes them), or undefined when malformed. */
function normalizeUuid(value: string): string | undefined {
  return UUID_PATTERN.test(value) ? value.toLowerCase() : undefined;
}

/** What `POST /api/messages` asks for, once validated. */
export type CreateMessageRequest =
  /** Pattern C: a message to an existing group. */
  | { kind: 'existing-group'; messageGroupUuid: string; text: string }
  /** Pattern D: a message to a person, in the pair's group (created if need be). */
  | { kind: 'new-group'; recipientHandle: string; text: string };

/** The target group of pattern C. */
function checkGroupUuid(value: unknown): Checked<string> {
  if (value === '') return { codes: [ValidationCode.messageGroupUuidBlank] };
  const uuid = typeof value === 'string' ? normalizeUuid(value) : undefined;
  return uuid === undefined ? { codes: [ValidationCode.messageGroupUuidInvalid] } : { value: uuid };
}

/** The recipient of pattern D. */
function checkRecipientHandle(value: unknown): Checked<string> {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
    return { codes: [ValidationCode.receiverHandleBlank] };
  }
  const handle = typeof value === 'string' ? normalizeHandle(value) : undefined;
  return handle === undefined ? { codes: [ValidationCode.receiverHandleInvalid] } : { value: handle };
}

/**
 * Validates the body of `POST /api/messages`, collecting every failure. As in the original,
 * a `message_group_uuid` (anything but null) selects pattern C and its absence pattern D,
 * whose recipient is `handle`; no other field is accepted, and not both recipients: a stale
 * client state naming a group and a different person must not send to either silently.
 * @throws ValidationError with the codes of every failed rule.
 */
export function parseCreateMessageRequest(body: Record<string, unknown>): CreateMessageRequest {
  const message = checkMessageText(body.message);
  const toGroup = body.message_group_uuid !== undefined && body.message_group_uuid !== null;
  const target = toGroup ? checkGroupUuid(body.message_group_uuid) : checkRecipientHandle(body.handle);
  // A client sending `user_uuid`, `created_at` or `uuid` expects them honoured; ignoring them
  // silently would hide the mistake (or the attempt to pose as someone else), so they are refused.
  const unknownField = Object.keys(body).some((field) => !CREATE_MESSAGE_FIELDS.has(field));
  const ambiguous = toGroup && body.handle !== undefined && body.handle !== null;
  if ('codes' in message || 'codes' in target || unknownField || ambiguous) {
    throw new ValidationError([
      ...('codes' in message ? message.codes : []),
      ...('codes' in target ? target.codes : []),
      ...(unknownField ? [ValidationCode.bodyFieldUnknown] : []),
      ...(ambiguous ? [ValidationCode.recipientAmbiguous] : []),
    ]);
  }
  return toGroup
    ? { kind: 'existing-group', messageGroupUuid: target.value, text: message.value }
    : { kind: 'new-group', recipientHandle: target.value, text: message.value };
}

/**
 * The body of `POST /api/message_groups/{group}/read`: `{"message_uuid": "…"}`, or nothing (or
 * `{}`) for the newest message. The uuid of the message to read up to, or undefined.
 * @throws ValidationError (`message_uuid_invalid`, `body_field_unknown`).
 */
export function parseMarkReadRequest(body: Record<string, unknown> | undefined): string | undefined {
  if (body === undefined) return undefined;
  const value = body.message_uuid;
  const uuid = value === undefined || value === null ? undefined : typeof value === 'string' ? normalizeUuid(value) : undefined;
  const invalid = value !== undefined && value !== null && uuid === undefined;
  const unknownField = Object.keys(body).some((field) => field !== 'message_uuid');
  if (invalid || unknownField) {
    throw new ValidationError([...(invalid ? [ValidationCode.messageUuidInvalid] : []), ...(unknownField ? [ValidationCode.bodyFieldUnknown] : [])]);
  }
  return uuid;
}

/**
 * The page a list request asks for: `limit` 1 to 100 (default 20) and an optional opaque
 * `cursor`, which the repository checks against the list it was issued for.
 * @throws ValidationError (`limit_invalid`, `cursor_invalid`).
 */
export function parsePageRequest(query: { limit?: string; cursor?: string } = {}): PageRequest {
  const codes: ValidationCodeValue[] = [];
  let limit = DEFAULT_PAGE_LIMIT;
  if (query.limit !== undefined) {
    limit = /^[0-9]{1,3}$/.test(query.limit) ? Number(query.limit) : Number.NaN;
    if (!(limit >= 1 && limit <= MAX_PAGE_LIMIT)) codes.push(ValidationCode.limitInvalid);
  }
  if (query.cursor !== undefined && query.cursor === '') codes.push(ValidationCode.cursorInvalid);
  if (codes.length > 0) throw new ValidationError(codes);
  return query.cursor === undefined ? { limit } : { limit, cursor: query.cursor };
}

/** The group uuid of a path. @throws ValidationError (`message_group_uuid_invalid`). */
export function parseMessageGroupUuid(value: string | undefined): string {
  const uuid = value === undefined ? undefined : normalizeUuid(value);
  if (uuid === undefined) throw new ValidationError([ValidationCode.messageGroupUuidInvalid]);
  return uuid;
}

/** The handle of a `/api/users/@{handle}/short` path. @throws ValidationError (`handle_invalid`). */
export function parseHandleParameter(value: string | undefined): string {
  const handle = value === undefined ? undefined : normalizeHandle(value);
  if (handle === undefined) throw new ValidationError([ValidationCode.handleInvalid]);
  return handle;
}
