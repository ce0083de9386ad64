/**
 * How message text is shown: plain text, with http(s) links and @mentions picked out. The tokens are data;
 * `view/` turns them into DOM nodes with `textContent` and attributes, never markup.
 */
export type TextToken =
  | { kind: 'text'; text: string }
  | { kind: 'link'; text: string; href: string }
  | { kind: 'mention'; text: string; me: boolean };

// A candidate link runs from http(s):// to white space or a character that rarely ends one in chat.
const LINK = /https?:\/\/[^\s<>"'`]+/giu;
// Punctuation that ends a sentence rather than a link: "see https://x.org/a." links to https://x.org/a.
const TRAILING = /[.,;:!?)\]}'"»”’]+$/u;
const MENTION = /(^|[^\p{L}\p{N}_])@([\p{L}\p{N}_.-]{1,32})/gu;

/** The link's target when it is a well-formed http(s) URL, else undefined (it is then shown as text). */
export function safeHref(candidate: string): string | undefined {
  try {
    const url = new URL(candidate);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** Splits message text into text, links (http and https only) and mentions of `@name`. */
export function tokenize(text: string, ownName: string): TextToken[] {
  const tokens: TextToken[] = [];
  let at = 0;
  for (const match of text.matchAll(LINK)) {
    const start = match.index ?? 0;
    let raw = match[0];
    const trailing = raw.match(TRAILING)?.[0] ?? '';
    // Keep a closing bracket that belongs to the link: https://en.wikipedia.org/wiki/Foo_(bar)
    if (trailing.startsWith(')') && raw.slice(0, -trailing.length).includes('(')) {
      raw = raw.slice(0, raw.length - trailing.length + 1);
    } else if (trailing) raw = raw.slice(0, -trailing.length);
    const href = safeHref(raw);
    if (!href) continue;
    if (start > at) tokens.push(...mentions(text.slice(at, start), ownName));
    tokens.push({ kind: 'link', text: raw, href });
    at = start + raw.length;
  }
  if (at < text.length) tokens.push(...mentions(text.slice(at), ownName));
  return tokens;
}

function mentions(text: string, ownName: string): TextToken[] {
  const tokens: TextToken[] = [];
  const own = ownName.toLocaleLowerCase();
  let at = 0;
  for (const match of text.matchAll(MENTION)) {
    const start = (match.index ?? 0) + (match[1]?.length ?? 0);
    const name = match[2] ?? '';
    if (start > at) tokens.push({ kind: 'text', text: text.slice(at, start) });
    tokens.push({ kind: 'mention', text: `@${name}`, me: own !== '' && name.toLocaleLowerCase() === own });
    at = start + 1 + name.length;
  }
  if (at < text.length) tokens.push({ kind: 'text', text: text.slice(at) });
  return tokens;
}

/** Whether `text` mentions `ownName` (`@name`, any case). */
export function mentionsMe(text: string, ownName: string): boolean {
  return tokenize(text, ownName).some((token) => token.kind === 'mention' && token.me);
}

/** The local calendar day of `ts`, as a key (`2026-12-01`). */
export function dayKey(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' });
const yearFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'long', day: 'numeric' });

/** "Today", "Yesterday", "Monday, 30 November", or with the year when it is not this year. */
export function dayLabel(ts: number, now = Date.now()): string {
  const key = dayKey(ts);
  if (key === dayKey(now)) return 'Today';
  if (key === dayKey(now - 86_400_000)) return 'Yesterday';
  return new Date(ts).getFullYear() === new Date(now).getFullYear()
    ? dayFormat.format(ts)
    : yearFormat.format(ts);
}

/** Messages from the same sender within this long of each other are shown as one group. */
export const GROUP_WINDOW_MS = 5 * 60_000;

/**
 * One line for users who came or went together (the SDK reports a mass reconnect's users one by one, in the same
 * turn): "bob joined", "bob and carol left", "bob, carol and 3 others joined".
 */
export function presenceNotice(names: readonly string[], state: 'joined' | 'left'): string {
  const shown = names.length <= 3 ? names : names.slice(0, 2);
  const rest = names.length - shown.length;
  const who =
    rest > 0
      ? `${shown.join(', ')} and ${rest} others`
      : shown.length > 1
        ? `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}`
        : (shown[0] ?? '');
  return `${who} ${state}`;
}
