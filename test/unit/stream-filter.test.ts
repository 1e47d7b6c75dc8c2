import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { MESSAGE_STREAM_SOURCE } from '../../functions/catalog';
import { filterEvents, matchesAnyFilterPattern, matchesFilterPattern, UnsupportedFilterPatternError } from '../../local/streams/filter';

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

  it('throws on operators it does not implement instead of guessing', () => {
    // Prepare
    const anythingBut = { eventName: [{ 'anything-but': ['REMOVE'] }] };
    const bareLeaf = { eventName: 'INSERT' };

    // Act
    const evaluate = (pattern: Record<string, unknown>) => () => matchesFilterPattern(pattern, { eventName: 'INSERT' });

    // Assess
    expect(evaluate(anythingBut)).toThrow(UnsupportedFilterPatternError);
    expect(evaluate(bareLeaf)).toThrow(UnsupportedFilterPatternError);
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
