/**
 * Lambda event filtering, evaluated locally. The deployed event source mapping filters
 * stream records with `MESSAGE_STREAM_SOURCE.filterPatterns` (functions/catalog.ts); the
 * local stream consumer has no Lambda service to do that, so it applies the same patterns
 * with this matcher and the two cannot drift apart.
 *
 * Implemented: the subset of Lambda's filter syntax this project uses, generically over
 * any pattern object: nested objects, arrays of exact values (strings, numbers, booleans,
 * null) and `{ "prefix": "..." }`. Any other operator (`anything-but`, `numeric`,
 * `exists`, ...) throws {@link UnsupportedFilterPatternError}: a local consumer that
 * silently let records through (or dropped them) would test something other than what
 * gets deployed.
 */

/** A Lambda event filter pattern, e.g. `{ eventName: ['INSERT'], dynamodb: { Keys: { pk: { S: [{ prefix: 'MSG#' }] } } } }`. */
export type FilterPattern = Readonly<Record<string, unknown>>;

/** The pattern uses syntax this matcher does not implement. */
export class UnsupportedFilterPatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedFilterPatternError';
  }
}

/**
 * Whether `event` (e.g. a DynamoDB stream record as Lambda delivers it) matches `pattern`:
 * every field the pattern names must match; fields it does not name are ignored.
 * @throws UnsupportedFilterPatternError for syntax outside the implemented subset.
 */
export function matchesFilterPattern(pattern: FilterPattern, event: unknown): boolean {
  return matchesObject(pattern, event, '');
}

/**
 * Whether Lambda would pass `event` to the function: it matches any one of `patterns`
 * (Lambda ORs the filters of an event source mapping). No patterns means no filtering.
 */
export function matchesAnyFilterPattern(patterns: readonly FilterPattern[], event: unknown): boolean {
  return patterns.length === 0 || patterns.some((pattern) => matchesFilterPattern(pattern, event));
}

/** The events Lambda would deliver, in their original order. */
export function filterEvents<T>(patterns: readonly FilterPattern[], events: readonly T[]): T[] {
  return events.filter((event) => matchesAnyFilterPattern(patterns, event));
}

function matchesObject(pattern: Readonly<Record<string, unknown>>, event: unknown, path: string): boolean {
  if (!isPlainObject(event)) return false;
  return Object.entries(pattern).every(([field, expected]) => matchesField(expected, event[field], `${path}${path ? '.' : ''}${field}`));
}

function matchesField(expected: unknown, actual: unknown, path: string): boolean {
  if (Array.isArray(expected)) return matchesAnyValue(expected, actual, path);
  if (isPlainObject(expected)) return matchesObject(expected, actual, path);
  // Lambda rejects a pattern whose leaves are not arrays; so does this matcher.
  throw new UnsupportedFilterPatternError(`Filter pattern field "${path}" must be an object or an array of values, got ${JSON.stringify(expected)}`);
}

/** A leaf: the event value matches one of the listed values or operators. */
function matchesAnyValue(candidates: readonly unknown[], actual: unknown, path: string): boolean {
  // Lambda matches an array in the event when any one of its elements matches.
  const values = Array.isArray(actual) ? actual : [actual];
  return candidates.some((candidate) => values.some((value) => matchesValue(candidate, value, path)));
}

function matchesValue(candidate: unknown, actual: unknown, path: string): boolean {
  if (candidate === null || ['string', 'number', 'boolean'].includes(typeof candidate)) {
    // `undefined` (a field absent from the event) matches no value, not even null.
    return actual !== undefined && candidate === actual;
  }
  if (isPlainObject(candidate)) {
    const operators = Object.keys(candidate);
    if (operators.length === 1 && operators[0] === 'prefix' && typeof candidate.prefix === 'string') {
      return typeof actual === 'string' && actual.startsWith(candidate.prefix);
    }
    throw new UnsupportedFilterPatternError(`Filter operator ${JSON.stringify(candidate)} at "${path}" is not implemented (only exact values and {"prefix": "..."})`);
  }
  throw new UnsupportedFilterPatternError(`Filter value ${JSON.stringify(candidate)} at "${path}" is not supported`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
