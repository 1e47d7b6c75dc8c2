import { ValidationError } from '../../functions/errors';
import {
  MESSAGE_MAX_CHARS,
  characterCount,
  checkMessageText,
  parseCreateMessageRequest,
  parseHandleParameter,
  parseMessageGroupUuid,
  parsePageRequest,
} from '../../functions/domain/validation';

const GROUP = '5ae290ed-55d1-47a0-bc6d-fe2bc2700399';

/** The codes a call fails with, or [] when it passes. */
function codesOf(run: () => unknown): string[] {
  try {
    run();
    return [];
  } catch (error) {
    if (error instanceof ValidationError) return error.codes;
    throw error;
  }
}

describe('checkMessageText', () => {
  it('trims the text', () => {
    // Prepare
    const raw = '  \n hello there \t ';

    // Act
    const checked = checkMessageText(raw);

    // Assess
    expect(checked).toEqual({ value: 'hello there' });
  });

  it.each([
    ['missing', undefined, 'message_blank'],
    ['null', null, 'message_blank'],
    ['empty', '', 'message_blank'],
    ['whitespace only', ' \n\t\u00a0\u3000 ', 'message_blank'],
    ['a number', 42, 'message_invalid'],
    ['an object', { text: 'hi' }, 'message_invalid'],
    ['a lone surrogate', 'hi \ud800 there', 'message_invalid'],
    ['text with a NUL', 'hi\u0000there', 'message_invalid'],
    ['text with an escape sequence', 'hi \u001b[2J', 'message_invalid'],
    ['invisible characters only', '\u200b\u200d\u200f\u3164', 'message_blank'],
  ])('refuses a message that is %s', (_, value, code) => {
    // Act
    const checked = checkMessageText(value);

    // Assess
    expect(checked).toEqual({ codes: [code] });
  });

  it('counts characters as code points: 1024 emoji pass, 1025 do not', () => {
    // Prepare
    const emoji = '\u{1F600}';
    const atLimit = emoji.repeat(MESSAGE_MAX_CHARS);
    const overLimit = emoji.repeat(MESSAGE_MAX_CHARS + 1);

    // Act
    const accepted = checkMessageText(atLimit);
    const refused = checkMessageText(overLimit);

    // Assess
    expect(atLimit.length).toBe(2 * MESSAGE_MAX_CHARS);
    expect(characterCount(atLimit)).toBe(MESSAGE_MAX_CHARS);
    expect(accepted).toEqual({ value: atLimit });
    expect(refused).toEqual({ codes: ['message_exceed_max_chars'] });
  });

  it('applies the limit after trimming', () => {
    // Prepare
    const padded = `   ${'a'.repeat(MESSAGE_MAX_CHARS)}   `;

    // Act
    const checked = checkMessageText(padded);

    // Assess
    expect(checked).toEqual({ value: 'a'.repeat(MESSAGE_MAX_CHARS) });
  });
});

describe('parseCreateMessageRequest', () => {
  it('selects pattern C when message_group_uuid is given, lower-casing it', () => {
    // Act
    const request = parseCreateMessageRequest({ message: ' hi ', message_group_uuid: GROUP.toUpperCase() });

    // Assess
    expect(request).toEqual({ kind: 'existing-group', messageGroupUuid: GROUP, text: 'hi' });
  });

  it('selects pattern D when only a handle is given, without a leading @', () => {
    // Act
    const plain = parseCreateMessageRequest({ message: 'hi', handle: 'londo' });
    const withAt = parseCreateMessageRequest({ message: 'hi', handle: '@londo', message_group_uuid: null });

    // Assess
    expect(plain).toEqual({ kind: 'new-group', recipientHandle: 'londo', text: 'hi' });
    expect(withAt).toEqual({ kind: 'new-group', recipientHandle: 'londo', text: 'hi' });
  });

  it('refuses a group and a person together (one recipient per request), whatever else is wrong', () => {
    // Act
    const both = codesOf(() => parseCreateMessageRequest({ message: 'hi', handle: 'londo', message_group_uuid: GROUP }));
    const bothBlank = codesOf(() => parseCreateMessageRequest({ message: '', handle: 'londo', message_group_uuid: GROUP }));
    const nullHandle = parseCreateMessageRequest({ message: 'hi', handle: null, message_group_uuid: GROUP });

    // Assess: a null handle is no handle, as a null group is no group.
    expect(both).toEqual(['recipient_ambiguous']);
    expect(bothBlank).toEqual(['message_blank', 'recipient_ambiguous']);
    expect(nullHandle.kind).toBe('existing-group');
  });

  it.each([
    [{ message: 'hi' }, ['user_reciever_handle_blank']],
    [{ message: 'hi', handle: '  ' }, ['user_reciever_handle_blank']],
    [{ message: 'hi', handle: 'has space' }, ['user_reciever_handle_invalid']],
    [{ message: 'hi', handle: 'x'.repeat(33) }, ['user_reciever_handle_invalid']],
    [{ message: 'hi', handle: ['londo'] }, ['user_reciever_handle_invalid']],
    [{ message: 'hi', handle: "londo'; DROP TABLE users;--" }, ['user_reciever_handle_invalid']],
    [{ message: 'hi', message_group_uuid: '' }, ['message_group_uuid_blank']],
    [{ message: 'hi', message_group_uuid: 'not-a-uuid' }, ['message_group_uuid_invalid']],
    [{ message: 'hi', message_group_uuid: 12 }, ['message_group_uuid_invalid']],
    [{ handle: 'londo' }, ['message_blank']],
    [{ message: '', handle: '' }, ['message_blank', 'user_reciever_handle_blank']],
    [{ message: 'x'.repeat(1025), message_group_uuid: 'nope' }, ['message_exceed_max_chars', 'message_group_uuid_invalid']],
    [{ message: 'hi', handle: 'londo', user_uuid: 'someone-else' }, ['body_field_unknown']],
    [{ message: '', handle: 'londo', created_at: '2000-01-01' }, ['message_blank', 'body_field_unknown']],
  ])('refuses %j with %j', (body, codes) => {
    // Act
    const failed = codesOf(() => parseCreateMessageRequest(body));

    // Assess
    expect(failed).toEqual(codes);
  });
});

describe('parsePageRequest', () => {
  it('defaults to 20 items and no cursor', () => {
    // Act
    const page = parsePageRequest({});

    // Assess
    expect(page).toEqual({ limit: 20 });
  });

  it('accepts limits from 1 to 100 and passes the cursor on', () => {
    // Act
    const pages = [parsePageRequest({ limit: '1' }), parsePageRequest({ limit: '100', cursor: 'abc' })];

    // Assess
    expect(pages).toEqual([{ limit: 1 }, { limit: 100, cursor: 'abc' }]);
  });

  it.each(['0', '101', '-1', '2.5', 'ten', '', ' 5', '1e1', '5,6'])('refuses limit=%j', (limit) => {
    // Act
    const codes = codesOf(() => parsePageRequest({ limit }));

    // Assess
    expect(codes).toEqual(['limit_invalid']);
  });

  it('refuses an empty cursor', () => {
    // Act
    const codes = codesOf(() => parsePageRequest({ cursor: '' }));

    // Assess
    expect(codes).toEqual(['cursor_invalid']);
  });
});

describe('path parameters', () => {
  it('checks the group uuid of a path', () => {
    // Act
    const valid = parseMessageGroupUuid(GROUP);
    const invalid = [undefined, '', 'x', `${GROUP}0`].map((value) => codesOf(() => parseMessageGroupUuid(value)));

    // Assess
    expect(valid).toBe(GROUP);
    expect(invalid).toEqual(Array(4).fill(['message_group_uuid_invalid']));
  });

  it('strips the @ of a handle parameter and checks its shape', () => {
    // Act
    const handles = [parseHandleParameter('@andrewbrown'), parseHandleParameter('bayko'), parseHandleParameter('@a.b-c_1')];
    const invalid = [undefined, '@', '@@londo', 'lon do', `@${'x'.repeat(33)}`].map((value) => codesOf(() => parseHandleParameter(value)));

    // Assess
    expect(handles).toEqual(['andrewbrown', 'bayko', 'a.b-c_1']);
    expect(invalid).toEqual(Array(5).fill(['handle_invalid']));
  });
});
