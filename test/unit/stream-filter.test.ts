import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { FUNCTIONS, MAX_STREAM_READERS, MESSAGE_STREAM_SOURCE, STREAM_FUNCTIONS, streamReadersProblem } from '../../functions/catalog';
import { filterEvents, matchesAnyFilterPattern, matchesFilterPattern, InvalidFilterPatternError, validateFilterPatterns } from '../../local/streams/filter';

/** A stream record as Lambda delivers it, for an item with these keys. */
function record(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', pk: string, sk = '2026-01-01T00:00:00.000Z#m1', sequenceNumber = '1'): DynamoDBRecord {
  const keys = marshall({ pk, sk }) as NonNullable<DynamoDBRecord['dynamodb']>['Keys'];
  return {
    eventName,
    eventSource: 'aws:dynamodb',
    dynamodb: { Keys: keys, NewImage: eventName === 'REMOVE' ? undefined : keys, SequenceNumber: sequenceNumber, StreamViewType: 'NEW_IMAGE' },
  };
}

describe('the message-stream filter patterns of the catalog', () => {
  const patterns = MESSAGE_STREAM_SOURCE.filterPatterns;

  it('passes new message items', () => {
    // Prepare
    const inserted = record('INSERT', 'MSG#group-1');

    // Act
    const passes = matchesAnyFilterPattern(patterns, inserted);

    // Assess
    expect(passes).toBe(true);
  });

  it('drops modified and removed messages', () => {
    // Prepare
    const events = [record('MODIFY', 'MSG#group-1'), record('REMOVE', 'MSG#group-1')];

    // Act
    const passed = filterEvents(patterns, events);

    // Assess
    expect(passed).toEqual([]);
  });

  it('drops the group, pair and summary items of a pattern D transaction and keeps its message', () => {
    // Prepare
    const transaction = [
      record('INSERT', 'PAIR#a#b', 'PAIR', '1'),
      record('INSERT', 'GROUP#g', 'META', '2'),
      record('INSERT', 'GRP#a', '2026-01-01T00:00:00.000Z#g', '3'),
      record('INSERT', 'GRP#b', '2026-01-01T00:00:00.000Z#g', '4'),
      record('INSERT', 'MSG#g', '2026-01-01T00:00:00.000Z#m', '5'),
    ];

    // Act
    const passed = filterEvents(patterns, transaction);

    // Assess
    expect(passed.map((event) => event.dynamodb?.SequenceNumber)).toEqual(['5']);
  });

  it('drops records without keys rather than throwing', () => {
    // Prepare
    const keyless: DynamoDBRecord = { eventName: 'INSERT', dynamodb: {} };

    // Act
    const passes = matchesAnyFilterPattern(patterns, keyless);

    // Assess
    expect(passes).toBe(false);
  });

  it('is case-sensitive on the prefix, as Lambda is', () => {
    // Prepare
    const lowercase = record('INSERT', 'msg#group-1');

    // Act
    const passes = matchesAnyFilterPattern(patterns, lowercase);

    // Assess
    expect(passes).toBe(false);
  });
});

describe('matchesFilterPattern', () => {
  it('matches exact strings, numbers, booleans and null', () => {
    // Prepare
    const pattern = { a: ['x', 'y'], b: [3], c: [false], d: [null] };

    // Act
    const matching = matchesFilterPattern(pattern, { a: 'y', b: 3, c: false, d: null, extra: 'ignored' });
    const wrongNumber = matchesFilterPattern(pattern, { a: 'y', b: 4, c: false, d: null });
    const wrongType = matchesFilterPattern(pattern, { a: 'y', b: '3', c: false, d: null });

    // Assess
    expect(matching).toBe(true);
    expect(wrongNumber).toBe(false);
    expect(wrongType).toBe(false);
  });

  it('does not match a field absent from the event, not even with null', () => {
    // Prepare
    const pattern = { d: [null] };

    // Act
    const matches = matchesFilterPattern(pattern, {});

    // Assess
    expect(matches).toBe(false);
  });

  it('matches an array in the event when any element matches', () => {
    // Prepare
    const pattern = { tags: ['b'] };

    // Act
    const anyElement = matchesFilterPattern(pattern, { tags: ['a', 'b'] });
    const noElement = matchesFilterPattern(pattern, { tags: ['a', 'c'] });

    // Assess
    expect(anyElement).toBe(true);
    expect(noElement).toBe(false);
  });

  it('mixes prefixes and exact values in one list', () => {
    // Prepare
    const pattern = { key: [{ prefix: 'MSG#' }, 'EXACT'] };

    // Act
    const results = ['MSG#1', 'EXACT', 'EXACTLY', 'GRP#1', 42].map((key) => matchesFilterPattern(pattern, { key }));

    // Assess
    expect(results).toEqual([true, true, false, false, false]);
  });

  it('requires nested objects where the pattern nests', () => {
    // Prepare
    const pattern = { dynamodb: { Keys: { pk: { S: [{ prefix: 'MSG#' }] } } } };

    // Act
    const flat = matchesFilterPattern(pattern, { dynamodb: 'MSG#1' });
    const nested = matchesFilterPattern(pattern, { dynamodb: { Keys: { pk: { S: 'MSG#1' } } } });

    // Assess
    expect(flat).toBe(false);
    expect(nested).toBe(true);
  });

  it('throws on a pattern Lambda would refuse instead of guessing', () => {
    // Prepare
    const wildcard = { eventName: [{ wildcard: 'IN*' }] };
    const bareLeaf = { eventName: 'INSERT' };

    // Act
    const evaluate = (pattern: Record<string, unknown>) => () => matchesFilterPattern(pattern, { eventName: 'INSERT' });

    // Assess
    expect(evaluate(wildcard)).toThrow(InvalidFilterPatternError);
    expect(evaluate(bareLeaf)).toThrow(InvalidFilterPatternError);
  });
});

describe('matchesAnyFilterPattern', () => {
  it('passes an event matching any one pattern, and everything when there are none', () => {
    // Prepare
    const patterns = [{ kind: ['a'] }, { kind: ['b'] }];

    // Act
    const second = matchesAnyFilterPattern(patterns, { kind: 'b' });
    const neither = matchesAnyFilterPattern(patterns, { kind: 'c' });
    const unfiltered = matchesAnyFilterPattern([], { kind: 'c' });

    // Assess
    expect(second).toBe(true);
    expect(neither).toBe(false);
    expect(unfiltered).toBe(true);
  });
});

/**
 * Every example of the "Filter rule syntax" table of Lambda's event-filtering documentation,
 * each with an event it matches and events it must not match.
 */
describe("the filter rule syntax of Lambda's documentation", () => {
  const cases: [operator: string, pattern: Record<string, unknown>, matches: Record<string, unknown>[], misses: Record<string, unknown>[]][] = [
    ['Null', { UserID: [null] }, [{ UserID: null }], [{ UserID: 'null' }, { UserID: '' }, {}]],
    ['Empty', { LastName: [''] }, [{ LastName: '' }], [{ LastName: null }, { LastName: ' ' }, {}]],
    ['Equals', { Name: ['Alice'] }, [{ Name: 'Alice' }, { Name: ['Bob', 'Alice'] }], [{ Name: 'alice' }, { Name: 'Alice ' }, {}]],
    ['Equals (ignore case)', { Name: [{ 'equals-ignore-case': 'alice' }] }, [{ Name: 'ALICE' }, { Name: 'Alice' }], [{ Name: 'Alicia' }, { Name: 1 }, {}]],
    [
      'And',
      { Location: ['New York'], Day: ['Monday'] },
      [{ Location: 'New York', Day: 'Monday' }],
      [{ Location: 'New York', Day: 'Tuesday' }, { Location: 'New York' }],
    ],
    ['Or', { PaymentType: ['Credit', 'Debit'] }, [{ PaymentType: 'Credit' }, { PaymentType: 'Debit' }], [{ PaymentType: 'Cash' }, {}]],
    [
      'Or (multiple fields)',
      { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] },
      [{ Location: 'New York' }, { Day: 'Monday' }, { Location: 'New York', Day: 'Monday' }],
      [{ Location: 'Boston', Day: 'Tuesday' }, {}],
    ],
    ['Not', { Weather: [{ 'anything-but': ['Raining'] }] }, [{ Weather: 'Sunny' }, { Weather: ['Raining', 'Sunny'] }], [{ Weather: 'Raining' }, {}]],
    ['Numeric (equals)', { Price: [{ numeric: ['=', 100] }] }, [{ Price: 100 }, { Price: 100.0 }], [{ Price: 101 }, { Price: '100' }, {}]],
    ['Numeric (range)', { Price: [{ numeric: ['>', 10, '<=', 20] }] }, [{ Price: 20 }, { Price: 10.5 }], [{ Price: 10 }, { Price: 20.01 }, { Price: '15' }]],
    [
      'Exists',
      { ProductName: [{ exists: true }] },
      [{ ProductName: 'Shoe' }, { ProductName: null }, { ProductName: [''] }],
      [{}, { ProductName: [] }, { ProductName: { Brand: 'X' } }],
    ],
    ['Does not exist', { ProductName: [{ exists: false }] }, [{}, { ProductName: [] }, { Other: 1 }], [{ ProductName: 'Shoe' }, { ProductName: null }]],
    ['Begins with', { Region: [{ prefix: 'us-' }] }, [{ Region: 'us-east-1' }], [{ Region: 'eu-west-1' }, { Region: 'US-east-1' }, {}]],
    ['Ends with', { FileName: [{ suffix: '.png' }] }, [{ FileName: 'cat.png' }], [{ FileName: 'cat.PNG' }, { FileName: 'png.jpg' }, {}]],
  ];

  it.each(cases)('%s', (_, pattern, matches, misses) => {
    // Act & Assess
    expect(matches.map((event) => matchesFilterPattern(pattern, event))).toEqual(matches.map(() => true));
    expect(misses.map((event) => matchesFilterPattern(pattern, event))).toEqual(misses.map(() => false));
  });
});

/** Cases where the event-pattern engine Lambda uses behaves in ways a naive matcher gets wrong. */
describe("the engine's semantics", () => {
  it('holds exists: false under a parent the event lacks', () => {
    expect(matchesFilterPattern({ a: { b: [{ exists: false }] } }, {})).toBe(true);
    expect(matchesFilterPattern({ a: { b: [{ exists: false }] } }, { a: 'leaf' })).toBe(true);
    expect(matchesFilterPattern({ a: { b: [{ exists: false }] } }, { a: { b: 1 } })).toBe(false);
  });

  it('reads dotted keys, in patterns and events, as nested ones', () => {
    expect(matchesFilterPattern({ 'a.b': ['x'] }, { a: { b: 'x' } })).toBe(true);
    expect(matchesFilterPattern({ a: { b: ['x'] } }, { 'a.b': 'x' })).toBe(true);
    expect(matchesFilterPattern({ 'a.b': ['x'] }, { a: { b: 'y' } })).toBe(false);
  });

  it('combines $or with exists', () => {
    const pattern = { $or: [{ a: [{ exists: false }] }, { b: ['x'] }] };
    expect([{}, { a: 1, b: 'x' }, { a: 1, b: 'y' }].map((event) => matchesFilterPattern(pattern, event))).toEqual([true, true, false]);
  });

  it('matches through a list of objects, each field from one and the same element', () => {
    const event = {
      items: [
        { name: 'a', size: 1 },
        { name: 'b', size: 2 },
      ],
    };
    expect(matchesFilterPattern({ items: { name: ['b'] } }, event)).toBe(true);
    expect(matchesFilterPattern({ items: { name: ['b'], size: [2] } }, event)).toBe(true);
    expect(matchesFilterPattern({ items: { name: ['a'], size: [2] } }, event)).toBe(false);
  });

  it('nests $or inside a field and matches DynamoDB stream records by their typed attributes', () => {
    const pattern = { dynamodb: { NewImage: { $or: [{ kind: { S: ['a'] } }, { size: { N: [{ prefix: '1' }] } }] } } };
    expect(matchesFilterPattern(pattern, { dynamodb: { NewImage: { kind: { S: 'b' }, size: { N: '12' } } } })).toBe(true);
    expect(matchesFilterPattern(pattern, { dynamodb: { NewImage: { kind: { S: 'b' }, size: { N: '2' } } } })).toBe(false);
  });

  it('compares exact values without normalizing types', () => {
    expect(matchesFilterPattern({ n: [3] }, { n: '3' })).toBe(false);
    expect(matchesFilterPattern({ b: [true] }, { b: 'true' })).toBe(false);
  });
});

describe('validateFilterPatterns', () => {
  it("accepts the catalog's patterns and every operator of the documentation", () => {
    expect(() => validateFilterPatterns(MESSAGE_STREAM_SOURCE.filterPatterns)).not.toThrow();
    expect(() =>
      validateFilterPatterns([
        {
          a: [
            null,
            '',
            'x',
            1,
            true,
            { 'equals-ignore-case': 'x' },
            { prefix: 'p' },
            { suffix: 's' },
            { 'anything-but': 'x' },
            { numeric: ['>=', 0, '<', 5] },
            { exists: true },
          ],
        },
      ]),
    ).not.toThrow();
  });

  it.each([
    ['a bare value', { a: 'x' }, /"a": a value goes inside a list/],
    ['an empty list', { a: [] }, /"a": an empty list matches nothing/],
    ['an empty object', { a: {} }, /"a": an empty object matches nothing/],
    ['an unknown operator', { a: [{ contains: 'x' }] }, /"a": "contains" is not an operator/],
    ['wildcard (EventBridge-only)', { a: [{ wildcard: 'x*' }] }, /"wildcard" is EventBridge-only/],
    ['cidr (EventBridge-only)', { ip: [{ cidr: '10.0.0.0/8' }] }, /"cidr" is EventBridge-only/],
    ['anything-but over prefix (EventBridge-only)', { a: [{ 'anything-but': { prefix: 'x' } }] }, /"anything-but" over an operator .* is EventBridge-only/],
    ['prefix ignoring case (EventBridge-only)', { a: [{ prefix: { 'equals-ignore-case': 'x' } }] }, /"prefix" takes a string \(nested operators/],
    ['two operators in one object', { a: [{ prefix: 'x', suffix: 'y' }] }, /exactly one operator/],
    ['a numeric operator that is none', { a: [{ numeric: ['!=', 1] }] }, /"numeric" operator "!=" is not one of/],
    ['a numeric string', { a: [{ numeric: ['>', '1'] }] }, /"numeric" compares with numbers/],
    ['an empty numeric range', { a: [{ numeric: ['>', 5, '<', 1] }] }, /range .* is empty/],
    ['exists with a string', { a: [{ exists: 'yes' }] }, /"exists" takes true or false/],
    ['anything-but with an empty list', { a: [{ 'anything-but': [] }] }, /"anything-but" takes/],
    ['$or with one branch', { $or: [{ a: ['x'] }] }, /"\$or" takes a list of at least two patterns/],
    ['a nested field, named in the message', { dynamodb: { Keys: { pk: { S: { prefix: 'x' } } } } }, /"dynamodb.Keys.pk.S.prefix": a value goes inside a list/],
  ])('refuses %s, naming the field', (_, pattern, message) => {
    expect(() => validateFilterPatterns([pattern])).toThrow(message);
  });

  it('refuses more filters than a mapping takes', () => {
    expect(() => validateFilterPatterns(Array.from({ length: 6 }, () => ({ a: ['x'] })))).toThrow(/at most 5/);
  });
});

describe("the table stream's readers", () => {
  it(`fit DynamoDB's ${MAX_STREAM_READERS} readers per shard, and a third stream function in the catalog is refused, by name`, () => {
    // Assess: today's catalog.
    expect(streamReadersProblem(FUNCTIONS)).toBeUndefined();
    // A scratch third consumer.
    const third = { ...STREAM_FUNCTIONS[0]!, name: 'read-receipts' };
    expect(streamReadersProblem([...FUNCTIONS, third])).toBe(
      "3 stream functions (message-stream, message-push, read-receipts) would read the table's stream; DynamoDB throttles more than 2 readers per shard: fold one into another, or feed it from a Kinesis stream or EventBridge Pipes",
    );
  });
});
