// The operators' cluster page: asks for the admin token (kept in sessionStorage, so only this tab has it),
// then polls /admin/api/cluster every 2 s and redraws. Names reach the page through textContent only.
import type { ClusterView } from '@chorus/protocol';
import { AccessError, fetchCluster } from './api';
import { drawRate, drawRooms, type RateSample } from './charts';
import { formatCount, formatRate } from './svg';
import { drawTopology } from './topology';

const TOKEN_KEY = 'chorus-admin-token';
const POLL_MS = 2_000;
const RATE_SPAN_MS = 120_000;

function byId<T extends Element>(id: string, type: abstract new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`#${id} is missing from admin.html`);
  return element;
}

const dom = {
  status: byId('status', HTMLParagraphElement),
  signOut: byId('sign-out', HTMLButtonElement),
  tokenView: byId('token-view', HTMLElement),
  tokenForm: byId('token-form', HTMLFormElement),
  token: byId('token', HTMLInputElement),
  tokenError: byId('token-error', HTMLParagraphElement),
  clusterView: byId('cluster-view', HTMLElement),
  totalNodes: byId('total-nodes', HTMLSpanElement),
  totalConnections: byId('total-connections', HTMLSpanElement),
  totalSpread: byId('total-spread', HTMLSpanElement),
  totalIn: byId('total-in', HTMLSpanElement),
  totalOut: byId('total-out', HTMLSpanElement),
  topology: byId('topology', SVGSVGElement),
  rate: byId('rate', SVGSVGElement),
  rooms: byId('rooms', SVGSVGElement),
  nodeRows: byId('node-rows', HTMLTableSectionElement),
};

const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
let samples: RateSample[] = [];
let timer: ReturnType<typeof setTimeout> | undefined;
/** Bumped on every start and sign-out, so a poll that answers late for an old session is ignored. */
let session = 0;

function setStatus(state: 'idle' | 'connected' | 'connecting' | 'disconnected', text: string): void {
  dom.status.dataset.state = state;
  dom.status.textContent = text;
}

function showTokenForm(error = ''): void {
  session += 1;
  clearTimeout(timer);
  samples = [];
  dom.clusterView.hidden = true;
  dom.signOut.hidden = true;
  dom.tokenView.hidden = false;
  dom.tokenError.textContent = error;
  setStatus('idle', 'Signed out');
  dom.token.focus();
}

function start(token: string): void {
  session += 1;
  const current = session;
  dom.tokenView.hidden = true;
  dom.clusterView.hidden = false;
  dom.signOut.hidden = false;
  setStatus('connecting', 'Connecting…');

  const poll = async () => {
    try {
      const view = await fetchCluster(token);
      if (current !== session) return;
      render(view);
      setStatus('connected', `Live via ${view.node} · ${timeFormat.format(view.generatedAt)}`);
    } catch (error) {
      if (current !== session) return;
      if (error instanceof AccessError) {
        sessionStorage.removeItem(TOKEN_KEY);
        showTokenForm(error.message);
        return;
      }
      setStatus('disconnected', `Unreachable, retrying (${(error as Error).message})`);
    }
    timer = setTimeout(poll, POLL_MS);
  };
  void poll();
}

function render(view: ClusterView): void {
  dom.totalNodes.textContent = formatCount(view.totals.nodes);
  dom.totalConnections.textContent = formatCount(view.totals.connections);
  dom.totalSpread.textContent = `±${Math.round(view.totals.connectionSpread * 100)}%`;
  dom.totalIn.textContent = formatRate(view.totals.messagesInPerSec);
  dom.totalOut.textContent = formatRate(view.totals.messagesOutPerSec);

  samples.push({
    at: view.generatedAt,
    messagesIn: view.totals.messagesInPerSec,
    messagesOut: view.totals.messagesOutPerSec,
  });
  samples = samples.filter((s) => s.at >= view.generatedAt - RATE_SPAN_MS);

  drawTopology(dom.topology, view);
  drawRate(dom.rate, samples, RATE_SPAN_MS);
  drawRooms(dom.rooms, view.rooms);
  renderRows(view);
}

function renderRows(view: ClusterView): void {
  const now = view.generatedAt;
  // Each cell carries its column's name, shown beside the value where a phone stacks the row (admin.css).
  const labels = [...(dom.nodeRows.closest('table')?.tHead?.rows[0]?.cells ?? [])].map(
    (th) => th.textContent,
  );
  const rows = view.nodes.map((node) => {
    const row = document.createElement('tr');
    const cells = [
      node.node,
      node.draining ? 'draining' : 'ready',
      formatCount(node.connections),
      formatCount(node.rooms),
      formatRate(node.messagesInPerSec),
      formatRate(node.messagesOutPerSec),
      uptime(now - node.startedAt),
    ];
    cells.forEach((text, i) => {
      const cell = document.createElement('td');
      cell.textContent = text;
      cell.dataset.label = labels[i] ?? '';
      row.append(cell);
    });
    row.cells[1]?.classList.add(node.draining ? 'state-draining' : 'state-ready');
    return row;
  });
  dom.nodeRows.replaceChildren(...rows);
}

function uptime(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

dom.tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const token = dom.token.value.trim();
  if (!token) {
    dom.tokenError.textContent = 'Enter the admin token.';
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  dom.token.value = '';
  start(token);
});

dom.signOut.addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  showTokenForm();
});

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) start(saved);
else showTokenForm();
