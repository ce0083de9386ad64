import type { User } from '@chorus/protocol';

const GUEST_TOKEN_KEY = 'chorus.guestToken';

/**
 * A short, stable tag of a user id (`#k3f9`), shown next to names: two people who both call themselves "Bob"
 * are told apart by it. Not a secret and not unique in theory; four characters of base 36 make a clash between
 * two people in one room unlikely enough for the eye.
 */
export function userTag(user: Pick<User, 'id'>): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < user.id.length; i++) hash = Math.imul(hash ^ user.id.charCodeAt(i), 0x01000193) >>> 0;
  return `#${(hash % 36 ** 4).toString(36).padStart(4, '0')}`;
}

/** The guest token this browser was given last, so a reload is the same guest. */
export function savedGuestToken(): string | undefined {
  try {
    return localStorage.getItem(GUEST_TOKEN_KEY) ?? undefined;
  } catch {
    return undefined; // storage disabled: a new guest each time
  }
}

export function saveGuestToken(token: string): void {
  try {
    localStorage.setItem(GUEST_TOKEN_KEY, token);
  } catch {
    // storage disabled
  }
}
