/**
 * Opaque pagination cursors. A cursor carries only the sort key of the last item a page
 * returned plus the list it belongs to; the partition key is always the caller's own query,
 * so a forged or reused cursor can never reach another user's partition.
 */
import { InvalidCursorError } from '../errors';

const VERSION = 1;
const MAX_CURSOR_LENGTH = 512;

interface CursorBody {
  v: number;
  /** Which list the cursor was issued for (e.g. the partition key), checked on decode. */
  l: string;
  sk: string;
}

/** Encodes a page position as an opaque url-safe string. */
export function encodeCursor(list: string, sk: string): string {
  const body: CursorBody = { v: VERSION, l: list, sk };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor issued by {@link encodeCursor} for the same list.
 * @throws InvalidCursorError for anything else.
 */
export function decodeCursor(list: string, cursor: string): string {
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw new InvalidCursorError();
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  const candidate = body as Partial<CursorBody> | null;
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    candidate.v !== VERSION ||
    candidate.l !== list ||
    typeof candidate.sk !== 'string' ||
    candidate.sk.length === 0
  ) {
    throw new InvalidCursorError();
  }
  return candidate.sk;
}
