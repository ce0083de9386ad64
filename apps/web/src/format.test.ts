import { describe, expect, it } from 'vitest';
import { dayKey, dayLabel, mentionsMe, presenceNotice, safeHref, tokenize } from './format';

describe('message text', () => {
  it('makes links of http and https URLs only, leaving sentence punctuation outside', () => {
    expect(tokenize('see https://example.com/a?b=1. and http://x.org/(y)!', 'me')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' },
      { kind: 'text', text: '. and ' },
      { kind: 'link', text: 'http://x.org/(y)', href: 'http://x.org/(y)' },
      { kind: 'text', text: '!' },
    ]);
    for (const text of ['javascript:alert(1)', 'data:text/html,<b>x</b>', 'ftp://x.org', 'vbscript:x']) {
      expect(tokenize(text, 'me')).toEqual([{ kind: 'text', text }]);
    }
    expect(safeHref('https://ex ample.com')).toBeUndefined();
  });

  it('picks out @mentions and knows the ones of this user, in any case', () => {
    expect(tokenize('hi @Alice and @bob, mail a@b.c', 'alice')).toEqual([
      { kind: 'text', text: 'hi ' },
      { kind: 'mention', text: '@Alice', me: true },
      { kind: 'text', text: ' and ' },
      { kind: 'mention', text: '@bob', me: false },
      { kind: 'text', text: ', mail a@b.c' },
    ]);
    expect(mentionsMe('ping @ALICE', 'alice')).toBe(true);
    expect(mentionsMe('alice@example.com', 'alice')).toBe(false);
  });

  it('names days as today, yesterday, or the date', () => {
    const now = new Date(2026, 11, 1, 12).getTime();
    expect(dayLabel(now - 3_600_000, now)).toBe('Today');
    expect(dayLabel(now - 86_400_000, now)).toBe('Yesterday');
    expect(dayLabel(new Date(2025, 0, 5).getTime(), now)).toMatch(/2025/);
    expect(dayKey(new Date(2026, 0, 2, 23, 59).getTime())).toBe('2026-01-02');
  });
});

describe('presence notices', () => {
  it('name one, two or three users, and count the rest', () => {
    expect(presenceNotice(['bob'], 'joined')).toBe('bob joined');
    expect(presenceNotice(['bob', 'carol'], 'left')).toBe('bob and carol left');
    expect(presenceNotice(['bob', 'carol', 'dan'], 'joined')).toBe('bob, carol and dan joined');
    expect(presenceNotice(['bob', 'carol', 'dan', 'eve'], 'joined')).toBe('bob, carol and 2 others joined');
    expect(presenceNotice(['a', 'b', 'c', 'd', 'e', 'f'], 'left')).toBe('a, b and 4 others left');
  });
});
