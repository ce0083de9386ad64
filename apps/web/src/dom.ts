import type { User } from '@chorus/protocol';
import { userTag } from './identity';

// Every piece of user text reaches the page through textContent or an attribute set by the DOM API: names,
// messages and link targets are never parsed as HTML.

export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`#${id} is missing from index.html`);
  return element;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/** What tells users apart beyond their name: a tag of their id, and a mark on guests (not signed in). */
export function identityMarks(user: User): HTMLElement[] {
  const tag = el('span', 'user-tag', userTag(user));
  tag.title = user.guest ? 'guest (not signed in)' : 'signed-in user';
  return user.guest ? [el('span', 'guest-badge', 'guest'), tag] : [tag];
}

/** One of eight avatar colours, stable per name. */
function hueClass(name: string): string {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) >>> 0;
  return `hue-${hash % 8}`;
}

export function avatar(name: string): HTMLSpanElement {
  const badge = el('span', `avatar ${hueClass(name)}`, [...name][0]?.toUpperCase() ?? '?');
  badge.setAttribute('aria-hidden', 'true');
  return badge;
}
