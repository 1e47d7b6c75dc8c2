/**
 * Timestamps and time-ordered sort keys.
 *
 * The original mixed naive and `+00:00` timestamps (defect 4), so string order and time
 * order disagreed. Every timestamp here is `Date#toISOString()`: UTC, milliseconds, `Z`,
 * always 24 characters, so lexical order equals time order.
 */

/** ISO-8601 UTC with milliseconds and `Z`, e.g. `2026-11-24T04:01:18.123Z`. */
export type IsoTimestamp = string;

const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The current time in the one timestamp format this project stores. */
export function nowIso(clock: () => number = Date.now): IsoTimestamp {
  return new Date(clock()).toISOString();
}

export function isIsoTimestamp(value: unknown): value is IsoTimestamp {
  return typeof value === 'string' && ISO_UTC_MS.test(value) && !Number.isNaN(Date.parse(value));
}

/**
 * A sort key that begins with the timestamp (so time order and `BETWEEN` date-range
 * queries keep working) and ends with a uuid, so two items written in the same
 * millisecond never share a key (defect 3).
 */
export function timeOrderedKey(at: IsoTimestamp, uniqueSuffix: string): string {
  return `${at}#${uniqueSuffix}`;
}

/** The timestamp a {@link timeOrderedKey} starts with. */
export function timestampOfKey(sortKey: string): IsoTimestamp {
  return sortKey.slice(0, 24);
}
