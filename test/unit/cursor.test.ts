import { decodeCursor, encodeCursor } from '../../functions/data/cursor';
import { InvalidCursorError } from '../../functions/errors';

describe('pagination cursors', () => {
  it('round-trip a sort key for the list they were issued for', () => {
    // Act
    const cursor = encodeCursor('MSG#g1', '2023-01-05T07:08:09.004Z#m1');

    // Assess
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor('MSG#g1', cursor)).toBe('2023-01-05T07:08:09.004Z#m1');
  });

  it('are refused on another list, so a cursor cannot reach another partition', () => {
    // Prepare
    const cursor = encodeCursor('GRP#alice', '2023-01-05T07:08:09.004Z#g1');

    // Act / Assess
    expect(() => decodeCursor('GRP#mallory', cursor)).toThrow(InvalidCursorError);
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'abc+/='],
    ['not JSON', Buffer.from('hello').toString('base64url')],
    ['JSON null', Buffer.from('null').toString('base64url')],
    ['another version', Buffer.from(JSON.stringify({ v: 2, l: 'MSG#g1', sk: 'x' })).toString('base64url')],
    ['no sort key', Buffer.from(JSON.stringify({ v: 1, l: 'MSG#g1' })).toString('base64url')],
    ['too long', 'a'.repeat(600)],
  ])('reject a cursor that is %s', (_label, cursor) => {
    expect(() => decodeCursor('MSG#g1', cursor)).toThrow(InvalidCursorError);
  });
});
