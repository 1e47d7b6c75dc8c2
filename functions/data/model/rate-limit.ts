/**
 * A user's count of one kind of request in one window of a rate limit (`pk = RATE#{sub}`,
 * `sk = {action}#{window start, epoch seconds}`), counted up by one conditional UpdateItem per
 * request (1 WCU, refused or not) and removed by the table's TTL a minute after its window.
 * Keyed by the Cognito `sub`, which the token gives: the count needs no user lookup, so it
 * runs beside the caller's lookup and adds no round trip. Attributes: `request_count`, and
 * `expires_at` (epoch seconds, the table's TTL attribute).
 */

/** The window `nowMs` falls in: windows start at multiples of `windowSeconds` (epoch time). */
export function rateWindowOf(nowMs: number, windowSeconds: number): { startSeconds: number; endSeconds: number } {
  const startSeconds = Math.floor(nowMs / 1000 / windowSeconds) * windowSeconds;
  return { startSeconds, endSeconds: startSeconds + windowSeconds };
}

/** How long a window's item is kept past its end, for anyone looking at the table. */
export const RATE_WINDOW_GRACE_SECONDS = 60;
