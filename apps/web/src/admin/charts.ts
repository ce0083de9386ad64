import type { ClusterView } from '@chorus/protocol';
import { formatCount, formatRate, label, redraw, svg, widthOf } from './svg';

/** Horizontal bars of the busiest rooms, by distinct members. */
export function drawRooms(target: SVGSVGElement, rooms: ClusterView['rooms']): void {
  const width = widthOf(target);
  const row = 30;
  const top = 8;
  const labelWidth = Math.min(190, Math.round(width * 0.3));
  const barSpace = width - labelWidth - 50;
  const height = Math.max(1, rooms.length) * row + top * 2;
  target.setAttribute('viewBox', `0 0 ${width} ${height}`);
  if (rooms.length === 0) {
    redraw(target, [
      svg('text', { x: width / 2, y: height / 2 + 5, class: 'empty-note' }, 'No room has members'),
    ]);
    return;
  }
  const max = Math.max(1, ...rooms.map((r) => r.members));
  const bars = rooms.map((room, i) => {
    const y = top + i * row;
    const width = Math.max(3, (barSpace * room.members) / max);
    const group = svg('g', { class: 'bar' });
    group.append(
      label(room.room, Math.floor(labelWidth / 8), {
        x: labelWidth - 12,
        y: y + row / 2 + 5,
        class: 'bar-name',
      }),
      svg('rect', { x: labelWidth, y: y + 5, width: width.toFixed(1), height: row - 10, rx: 5 }),
      svg(
        'text',
        { x: labelWidth + width + 8, y: y + row / 2 + 5, class: 'bar-value' },
        formatCount(room.members),
      ),
    );
    return group;
  });
  redraw(target, bars);
}

export interface RateSample {
  at: number;
  messagesIn: number;
  messagesOut: number;
}

/** The cluster's message rates over the kept samples: deliveries as an area, accepted messages as a line. */
export function drawRate(target: SVGSVGElement, samples: RateSample[], spanMs: number): void {
  const width = widthOf(target);
  const height = 190;
  const left = 44;
  const right = 12;
  const top = 14;
  const bottom = 26;
  target.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const now = samples.at(-1)?.at ?? Date.now();
  const peak = Math.max(1, ...samples.map((s) => Math.max(s.messagesIn, s.messagesOut)));
  const max = niceCeiling(peak);
  const x = (at: number) => left + (width - left - right) * (1 - (now - at) / spanMs);
  const y = (value: number) => top + (height - top - bottom) * (1 - value / max);

  const parts: Element[] = [];
  for (const fraction of [0, 0.5, 1]) {
    const value = max * fraction;
    parts.push(
      svg('line', { class: 'grid', x1: left, x2: width - right, y1: y(value), y2: y(value) }),
      svg('text', { class: 'axis axis-y', x: left - 8, y: y(value) + 4 }, formatRate(value)),
    );
  }
  parts.push(
    svg('text', { class: 'axis', x: left, y: height - 6 }, `−${Math.round(spanMs / 60_000)} min`),
    svg('text', { class: 'axis axis-end', x: width - right, y: height - 6 }, 'now'),
  );
  if (samples.length >= 2) {
    const points = (pick: (s: RateSample) => number) =>
      samples.map((s) => `${x(s.at).toFixed(1)},${y(pick(s)).toFixed(1)}`).join(' ');
    const first = samples[0]!;
    const last = samples.at(-1)!;
    parts.push(
      svg('polygon', {
        class: 'rate-area',
        points: `${x(first.at).toFixed(1)},${y(0)} ${points((s) => s.messagesOut)} ${x(last.at).toFixed(1)},${y(0)}`,
      }),
      svg('polyline', { class: 'rate-out', points: points((s) => s.messagesOut) }),
      svg('polyline', { class: 'rate-in', points: points((s) => s.messagesIn) }),
    );
  }
  const legend = svg('g', { class: 'legend' });
  legend.append(
    svg('rect', { class: 'legend-in', x: width - 214, y: 3, width: 14, height: 4, rx: 2 }),
    svg('text', { x: width - 194, y: 9 }, 'messages in'),
    svg('rect', { class: 'legend-out', x: width - 100, y: 3, width: 14, height: 4, rx: 2 }),
    svg('text', { x: width - 80, y: 9 }, 'deliveries'),
  );
  parts.push(legend);
  redraw(target, parts);
}

/** 1, 2, 5, 10, 20, 50… at or above `value`, so the axis reads in round numbers. */
function niceCeiling(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}
