/**
 * Lambda event filtering, evaluated locally: the deployed event source mapping filters
 * stream records with the catalog entry's `filterPatterns`; the local consumer has no Lambda
 * service to do that, so it applies the same patterns here.
 *
 * The whole filter-rule syntax of Lambda's documentation ("Filter rule syntax"): null, empty,
 * equals, equals-ignore-case, and (several fields), or (several values, and `$or` over
 * fields), anything-but, numeric (equals and ranges), exists, does-not-exist, prefix and
 * suffix. The semantics are those of the engine Lambda shares with EventBridge
 * (aws/event-ruler):
 *
 * - The event is flattened into leaf values by path: nested keys join with `.`, so a pattern
 *   key `a.b` and an event key `a.b` mean the same as `a: { b: ... }`; the elements of an
 *   array stand for the field itself, objects in arrays included.
 * - A field's list matches when any of its conditions matches any of the field's values;
 *   an array in the event matches when any element does. A missing field matches only
 *   `exists: false`, which also holds under a missing parent. `exists` looks at leaves only.
 * - Fields matched inside objects of one array must come from the same element.
 * - Exact values compare without any normalization (case, numbers' forms).
 *
 * Patterns are validated as a whole before any event is seen (`validateFilterPatterns`): what
 * Lambda refuses at deploy, or an EventBridge-only operator Lambda does not accept
 * (`wildcard`, `cidr`, `anything-but` over `prefix`...), is an error naming the field.
 */

/** A Lambda event filter pattern, e.g. `{ eventName: ['INSERT'], dynamodb: { Keys: { pk: { S: [{ prefix: 'MSG#' }] } } } }`. */
export type FilterPattern = Readonly<Record<string, unknown>>;

/** The pattern is not one Lambda accepts. */
export class InvalidFilterPatternError extends Error {
  override readonly name = 'InvalidFilterPatternError';
}

type Scalar = string | number | boolean | null;

type Condition =
  | { kind: 'equals'; value: Scalar }
  | { kind: 'equals-ignore-case'; value: string }
  | { kind: 'prefix'; value: string }
  | { kind: 'suffix'; value: string }
  | { kind: 'anything-but'; values: (string | number)[] }
  | { kind: 'numeric'; lower?: { value: number; inclusive: boolean }; upper?: { value: number; inclusive: boolean }; equals?: number }
  | { kind: 'exists'; value: boolean };

/** A compiled pattern: every field must match (and), and every `$or` must have a matching branch. */
interface CompiledPattern {
  fields: { path: string; conditions: Condition[] }[];
  ors: CompiledPattern[][];
}

const NUMERIC_OPERATORS = new Set(['=', '<', '<=', '>', '>=']);
const OPERATOR_NAMES = ['equals-ignore-case', 'prefix', 'suffix', 'anything-but', 'numeric', 'exists'];

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const fail = (path: string, message: string): never => {
  throw new InvalidFilterPatternError(`Filter pattern field "${path || '(top)'}": ${message}`);
};

function compileCondition(candidate: unknown, path: string): Condition {
  if (candidate === null || ['string', 'number', 'boolean'].includes(typeof candidate)) {
    if (typeof candidate === 'number' && !Number.isFinite(candidate)) fail(path, `${candidate} is not a number Lambda can compare`);
    return { kind: 'equals', value: candidate as Scalar };
  }
  if (!isPlainObject(candidate)) return fail(path, `${JSON.stringify(candidate)} is neither a value nor an operator`);
  const operators = Object.keys(candidate);
  if (operators.length !== 1) return fail(path, `an operator object holds exactly one operator, got ${JSON.stringify(candidate)}`);
  const operator = operators[0]!;
  const argument = candidate[operator];
  switch (operator) {
    case 'equals-ignore-case':
    case 'prefix':
    case 'suffix':
      if (typeof argument !== 'string')
        return fail(
          path,
          `"${operator}" takes a string${isPlainObject(argument) ? ' (nested operators such as {"prefix": {"equals-ignore-case": ...}} are EventBridge-only)' : ''}, got ${JSON.stringify(argument)}`,
        );
      return { kind: operator, value: argument };
    case 'anything-but': {
      const values = Array.isArray(argument) ? argument : [argument];
      if (isPlainObject(argument))
        return fail(path, `"anything-but" over an operator (${JSON.stringify(argument)}) is EventBridge-only; Lambda takes a value or a list of values`);
      if (values.length === 0 || values.some((value) => typeof value !== 'string' && typeof value !== 'number')) {
        return fail(path, `"anything-but" takes a string, a number or a non-empty list of them, got ${JSON.stringify(argument)}`);
      }
      if (new Set(values.map((value) => typeof value)).size > 1) return fail(path, '"anything-but" takes strings or numbers, not both');
      return { kind: 'anything-but', values: values as (string | number)[] };
    }
    case 'numeric':
      return compileNumeric(argument, path);
    case 'exists':
      if (typeof argument !== 'boolean') return fail(path, `"exists" takes true or false, got ${JSON.stringify(argument)}`);
      return { kind: 'exists', value: argument };
    default:
      return fail(
        path,
        `"${operator}" is not an operator Lambda's filter rules accept (known: ${OPERATOR_NAMES.join(', ')})${['wildcard', 'cidr'].includes(operator) ? `; "${operator}" is EventBridge-only` : ''}`,
      );
  }
}

function compileNumeric(argument: unknown, path: string): Condition {
  if (!Array.isArray(argument) || argument.length === 0 || argument.length % 2 !== 0 || argument.length > 4) {
    return fail(path, `"numeric" takes [operator, number] or [lower operator, number, upper operator, number], got ${JSON.stringify(argument)}`);
  }
  const condition: Extract<Condition, { kind: 'numeric' }> = { kind: 'numeric' };
  for (let index = 0; index < argument.length; index += 2) {
    const [operator, value] = [argument[index], argument[index + 1]];
    if (typeof operator !== 'string' || !NUMERIC_OPERATORS.has(operator))
      return fail(path, `"numeric" operator ${JSON.stringify(operator)} is not one of =, <, <=, >, >=`);
    if (typeof value !== 'number' || !Number.isFinite(value)) return fail(path, `"numeric" compares with numbers, got ${JSON.stringify(value)}`);
    if (operator === '=') {
      if (argument.length !== 2) return fail(path, '"numeric" "=" stands alone');
      condition.equals = value;
    } else if (operator.startsWith('>')) {
      if (condition.lower) return fail(path, '"numeric" takes one lower bound');
      condition.lower = { value, inclusive: operator === '>=' };
    } else {
      if (condition.upper) return fail(path, '"numeric" takes one upper bound');
      condition.upper = { value, inclusive: operator === '<=' };
    }
  }
  if (condition.lower && condition.upper && condition.lower.value >= condition.upper.value)
    return fail(path, `"numeric" range ${JSON.stringify(argument)} is empty`);
  return condition;
}

function compilePattern(pattern: unknown, prefix: string): CompiledPattern {
  if (!isPlainObject(pattern)) return fail(prefix, `a pattern is a JSON object, got ${JSON.stringify(pattern)}`);
  if (Object.keys(pattern).length === 0) return fail(prefix, 'an empty object matches nothing; leave the field out instead');
  const compiled: CompiledPattern = { fields: [], ors: [] };
  for (const [key, value] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2) return fail(prefix, '"$or" takes a list of at least two patterns');
      compiled.ors.push(value.map((branch) => compilePattern(branch, prefix)));
      continue;
    }
    const path = prefix ? `${prefix}.${key}` : key;
    if (Array.isArray(value)) {
      if (value.length === 0) return fail(path, 'an empty list matches nothing; use [null] for null or [""] for empty');
      compiled.fields.push({ path, conditions: value.map((candidate) => compileCondition(candidate, path)) });
    } else if (isPlainObject(value)) {
      const nested = compilePattern(value, path);
      compiled.fields.push(...nested.fields);
      compiled.ors.push(...nested.ors);
    } else {
      return fail(path, `a value goes inside a list ([${JSON.stringify(value)}]), as Lambda requires`);
    }
  }
  return compiled;
}

/** Lambda's limit on filters per event source mapping (a quota raise gives 10). */
const MAX_FILTERS = 5;

/**
 * Checks every pattern as Lambda would when the mapping is created or the local runtime
 * starts. @throws InvalidFilterPatternError naming the pattern and the field.
 */
export function validateFilterPatterns(patterns: readonly FilterPattern[]): void {
  if (patterns.length > MAX_FILTERS)
    throw new InvalidFilterPatternError(`${patterns.length} filter patterns; an event source mapping takes at most ${MAX_FILTERS}`);
  patterns.forEach((pattern, index) => {
    try {
      compilePattern(pattern, '');
    } catch (error) {
      if (error instanceof InvalidFilterPatternError)
        throw new InvalidFilterPatternError(`Filter pattern ${index + 1} of ${patterns.length}: ${error.message}`);
      throw error;
    }
  });
}

// ---- the event side ----

/** A leaf value of the event, with the array elements it sits in (array path -> index). */
interface Leaf {
  value: Scalar;
  arrays: ReadonlyMap<string, number>;
}

/** The event's leaves by path. Empty arrays and objects have none. */
function flatten(event: unknown): Map<string, Leaf[]> {
  const leaves = new Map<string, Leaf[]>();
  const visit = (value: unknown, path: string, arrays: ReadonlyMap<string, number>) => {
    if (Array.isArray(value)) {
      for (const [index, element] of value.entries()) visit(element, path, new Map(arrays).set(path, index));
    } else if (isPlainObject(value)) {
      for (const [key, child] of Object.entries(value)) visit(child, path ? `${path}.${key}` : key, arrays);
    } else if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) {
      const list = leaves.get(path) ?? [];
      list.push({ value: value as Scalar, arrays });
      leaves.set(path, list);
    }
  };
  visit(event, '', new Map());
  return leaves;
}

function valueMatches(condition: Condition, value: Scalar): boolean {
  switch (condition.kind) {
    case 'equals':
      return value === condition.value;
    case 'equals-ignore-case':
      return typeof value === 'string' && value.toLowerCase() === condition.value.toLowerCase();
    case 'prefix':
      return typeof value === 'string' && value.startsWith(condition.value);
    case 'suffix':
      return typeof value === 'string' && value.endsWith(condition.value);
    case 'anything-but':
      return !condition.values.some((excluded) => excluded === value);
    case 'numeric':
      if (typeof value !== 'number') return false;
      if (condition.equals !== undefined) return value === condition.equals;
      return (
        (condition.lower === undefined || (condition.lower.inclusive ? value >= condition.lower.value : value > condition.lower.value)) &&
        (condition.upper === undefined || (condition.upper.inclusive ? value <= condition.upper.value : value < condition.upper.value))
      );
    case 'exists':
      return condition.value;
  }
}

/** Array elements chosen so far: a field matched in element 2 of `a` binds `a` to 2 for the others. */
type Bindings = ReadonlyMap<string, number>;

function consistent(arrays: ReadonlyMap<string, number>, bindings: Bindings): Bindings | undefined {
  let merged: Map<string, number> | undefined;
  for (const [path, index] of arrays) {
    const bound = bindings.get(path);
    if (bound === undefined) (merged ??= new Map(bindings)).set(path, index);
    else if (bound !== index) return undefined;
  }
  return merged ?? bindings;
}

/** The bindings under which one field matches, each possible way. */
function fieldMatches(field: CompiledPattern['fields'][number], leaves: Map<string, Leaf[]>, bindings: Bindings): Bindings[] {
  const values = leaves.get(field.path) ?? [];
  const ways: Bindings[] = [];
  for (const condition of field.conditions) {
    if (condition.kind === 'exists') {
      if (condition.value === values.length > 0) ways.push(bindings);
      continue;
    }
    for (const leaf of values) {
      if (!valueMatches(condition, leaf.value)) continue;
      const bound = consistent(leaf.arrays, bindings);
      if (bound !== undefined) ways.push(bound);
    }
  }
  return ways;
}

/** Whether the compiled pattern matches with some consistent choice of array elements. */
function matchesCompiled(pattern: CompiledPattern, leaves: Map<string, Leaf[]>, bindings: Bindings): boolean {
  const steps: ((bound: Bindings) => Bindings[])[] = [
    ...pattern.fields.map((field) => (bound: Bindings) => fieldMatches(field, leaves, bound)),
    ...pattern.ors.map((branches) => (bound: Bindings) => branches.flatMap((branch) => (matchesCompiled(branch, leaves, bound) ? [bound] : []))),
  ];
  const search = (index: number, bound: Bindings): boolean => index === steps.length || steps[index]!(bound).some((next) => search(index + 1, next));
  return search(0, bindings);
}

const compiledCache = new WeakMap<FilterPattern, CompiledPattern>();

function compiled(pattern: FilterPattern): CompiledPattern {
  let found = compiledCache.get(pattern);
  if (found === undefined) compiledCache.set(pattern, (found = compilePattern(pattern, '')));
  return found;
}

/**
 * Whether `event` (e.g. a DynamoDB stream record as Lambda delivers it) matches `pattern`.
 * @throws InvalidFilterPatternError for a pattern Lambda would refuse.
 */
export function matchesFilterPattern(pattern: FilterPattern, event: unknown): boolean {
  return matchesCompiled(compiled(pattern), flatten(event), new Map());
}

/**
 * Whether Lambda would pass `event` to the function: it matches any one of `patterns`
 * (Lambda ORs the filters of an event source mapping). No patterns means no filtering.
 */
export function matchesAnyFilterPattern(patterns: readonly FilterPattern[], event: unknown): boolean {
  if (patterns.length === 0) return true;
  const leaves = flatten(event);
  return patterns.some((pattern) => matchesCompiled(compiled(pattern), leaves, new Map()));
}

/** The events Lambda would deliver, in their original order. */
export function filterEvents<T>(patterns: readonly FilterPattern[], events: readonly T[]): T[] {
  return events.filter((event) => matchesAnyFilterPattern(patterns, event));
}
