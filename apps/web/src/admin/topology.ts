import type { ClusterView, NodeReport } from '@chorus/protocol';
import { formatCount, formatRate, label, redraw, svg, widthOf } from './svg';

const HEIGHT = 440;
const MIN_RADIUS = 16;
const MAX_RADIUS = 46;

/**
 * Draws the cluster as a hub: Redis in the middle, one circle per live gateway around it. A circle's area
 * grows with the gateway's connections, its link's width with its message rate; a draining gateway is dashed.
 */
export function drawTopology(target: SVGSVGElement, view: ClusterView): void {
  const width = widthOf(target, 720);
  const center = { x: width / 2, y: HEIGHT / 2 };
  target.setAttribute('viewBox', `0 0 ${width} ${HEIGHT}`);
  const nodes = [...view.nodes].sort((a, b) => a.node.localeCompare(b.node));
  const maxConnections = Math.max(1, ...nodes.map((n) => n.connections));
  const maxRate = Math.max(1, ...nodes.map(rate));
  const links = svg('g', { class: 'links' });
  const circles = svg('g', { class: 'nodes' });

  // Few nodes sit on a wide ellipse; the ring keeps its shape as nodes come and go.
  const rx = Math.max(60, width / 2 - MAX_RADIUS - 70);
  // Room above and below the ring for two lines of label.
  const ry = HEIGHT / 2 - MAX_RADIUS - 40;
  nodes.forEach((node, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / nodes.length;
    const x = center.x + rx * Math.cos(angle);
    const y = center.y + ry * Math.sin(angle);
    const r = MIN_RADIUS + (MAX_RADIUS - MIN_RADIUS) * Math.sqrt(node.connections / maxConnections);
    const flowing = rate(node) > 0;
    links.append(
      svg('line', {
        class: `link${flowing ? ' flowing' : ''}${node.draining ? ' draining' : ''}`,
        x1: center.x,
        y1: center.y,
        x2: x,
        y2: y,
        'stroke-width': (1.5 + 7 * (rate(node) / maxRate)).toFixed(2),
      }),
    );
    circles.append(drawNode(node, { x, y, r, below: y >= center.y }, node.node === view.node));
  });

  const hub = svg('g', { class: 'hub' });
  hub.append(
    svg('rect', { x: center.x - 58, y: center.y - 30, width: 116, height: 60, rx: 14 }),
    svg('text', { x: center.x, y: center.y - 2, class: 'hub-name' }, 'Redis'),
    svg('text', { x: center.x, y: center.y + 16, class: 'hub-sub' }, 'streams · pub/sub'),
  );

  const parts: Element[] = [links, hub, circles];
  if (nodes.length === 0) {
    parts.push(
      svg(
        'text',
        { x: center.x, y: center.y + 70, class: 'empty-note' },
        'No gateway reported in the last 6 s',
      ),
    );
  }
  redraw(target, parts);
}

function rate(node: NodeReport): number {
  return node.messagesInPerSec + node.messagesOutPerSec;
}

function drawNode(
  node: NodeReport,
  { x, y, r, below }: { x: number; y: number; r: number; below: boolean },
  answered: boolean,
): SVGGElement {
  const group = svg('g', { class: `node${node.draining ? ' draining' : ''}${answered ? ' answered' : ''}` });
  const state = node.draining ? 'draining' : 'ready';
  group.append(
    svg(
      'title',
      {},
      `${node.node} (${state}): ${node.connections} connections, ${node.rooms} rooms, ` +
        `${formatRate(node.messagesInPerSec)} in/s, ${formatRate(node.messagesOutPerSec)} out/s`,
    ),
    svg('circle', { cx: x, cy: y, r: r.toFixed(1) }),
    svg('text', { x, y: y + 5, class: 'node-count' }, formatCount(node.connections)),
  );
  // Labels go below a node in the lower half and above it in the upper half, away from the hub.
  const nameY = below ? y + r + 18 : y - r - 24;
  group.append(
    label(node.node, 22, { x, y: nameY, class: 'node-name' }),
    svg(
      'text',
      { x, y: nameY + 16, class: 'node-rate' },
      node.draining ? 'draining' : `${formatRate(node.messagesInPerSec)} msg/s in`,
    ),
  );
  return group;
}
