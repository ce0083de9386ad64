import { RoomSchema } from '@chorus/protocol';

// What the page remembers in this browser (besides the guest token, identity.ts): the display name and the
// rooms open, so a reload comes back as the same user in the same rooms. Storage may be disabled; then
// nothing is remembered and nothing breaks.

const NAME_KEY = 'chorus.name';
const ROOMS_KEY = 'chorus.rooms';

/** A room the page had open, with what the sidebar called it (direct conversations are named by the person). */
export interface SavedRoom {
  room: string;
  label?: string;
}

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // storage disabled: not remembered
  }
}

export function savedName(): string {
  return read(NAME_KEY) ?? '';
}

export function saveName(name: string): void {
  write(NAME_KEY, name);
}

export function savedRooms(): SavedRoom[] {
  try {
    const parsed: unknown = JSON.parse(read(ROOMS_KEY) ?? '[]');
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (entry): entry is SavedRoom =>
        typeof entry === 'object' &&
        entry !== null &&
        RoomSchema.safeParse((entry as SavedRoom).room).success &&
        ((entry as SavedRoom).label === undefined || typeof (entry as SavedRoom).label === 'string'),
    );
  } catch {
    return [];
  }
}

export function saveRooms(rooms: SavedRoom[]): void {
  write(ROOMS_KEY, JSON.stringify(rooms));
}
