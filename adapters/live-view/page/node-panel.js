// One node's panel: its four statecharts with the current states highlighted, the facts that matter
// (role, term, leader, height, round), its latest blocks and a log of its events. Everything comes
// from that node's own API, reached directly (it may be another origin: the API answers any origin).
//
//   GET  <api>/status, /consensus, /blocks?limit=N   once, and again after a reconnect
//   SSE  <api>/events?kinds=block,leader,consensus   then every change as it happens

import { pathOf, renderStatechart } from './statechart.js';

const BLOCKS_SHOWN = 8;
const LOG_LINES = 80;
const EVENT_KINDS = 'block,leader,consensus';
const RECONNECT_MS = 3_000;

function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  element.append(...children);
  return element;
}

/** Node ids and seals are long hex strings: the first 8 characters tell them apart on screen. */
function short(id) {
  return typeof id === 'string' && id.length > 12 ? `${id.slice(0, 8)}…` : String(id ?? '—');
}

function clock(date = new Date()) {
  return date.toTimeString().slice(0, 8) + `.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

const CAPTIONS = {
  election: (s) => `term ${s.term} · leader ${short(s.leader)}`,
  pbft: (s) => `h${s.height} r${s.round}${s.locked ? ` · locked r${s.locked.round}` : ''}`,
  batching: (s) => `pool ${s.pool}`,
  sync: (s) => `height ${s.height} of ${s.target}`,
};

export class NodePanel {
  constructor(node, machines, parent) {
    this.node = node;
    this.apiUrl = node.apiUrl.replace(/\/+$/, '');
    this.charts = new Map();
    this.blocks = [];
    this.consensus = null;
    this.heardConsensus = false;
    this.height = -1;
    this.statusTimer = null;

    this.facts = {};
    const fact = (name, label) => {
      this.facts[name] = el('dd', { 'data-fact': name }, '—');
      return [el('dt', {}, label), this.facts[name]];
    };
    this.connection = el('span', { class: 'connection' }, 'connecting…');
    const header = el(
      'header',
      {},
      el('h2', { title: node.nodeId }, `node ${short(node.nodeId)}`),
      el('a', { class: 'api', href: `${this.apiUrl}/status` }, this.apiUrl),
      this.connection,
      el(
        'dl',
        { class: 'facts' },
        ...fact('role', 'role'),
        ...fact('term', 'term'),
        ...fact('leader', 'leader'),
        ...fact('height', 'height'),
        ...fact('round', 'round'),
      ),
    );

    const charts = el('div', { class: 'charts' });
    for (const machine of machines) {
      const chart = renderStatechart(machine);
      const where = el('span', { class: 'where' }, '');
      const figure = el(
        'figure',
        { class: 'chart', 'data-machine': machine.key },
        el('figcaption', {}, el('strong', {}, machine.title), ' ', where),
      );
      figure.append(chart.element);
      charts.append(figure);
      this.charts.set(machine.key, { ...chart, figure, where, path: null });
    }

    this.blockRows = el('tbody');
    this.log = el('ol', { class: 'log' });
    const lower = el(
      'div',
      { class: 'lower' },
      el(
        'section',
        { class: 'blocks' },
        el('h3', {}, 'Latest blocks'),
        el(
          'table',
          {},
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              el('th', {}, 'height'),
              el('th', {}, 'seal'),
              el('th', {}, 'txs'),
              el('th', {}, 'creator'),
            ),
          ),
          this.blockRows,
        ),
      ),
      el('section', { class: 'events' }, el('h3', {}, 'Events'), this.log),
    );

    this.element = el('section', { class: 'node', 'data-node-id': node.nodeId }, header, charts, lower);
    parent.append(this.element);
  }

  start() {
    this.refresh();
    this.listen();
  }

  listen() {
    const events = new EventSource(`${this.apiUrl}/events?kinds=${EVENT_KINDS}`);
    events.addEventListener('open', () => {
      this.setOnline(true);
      this.refresh();
    });
    events.addEventListener('error', () => {
      this.setOnline(false);
      // The browser reconnects a dropped stream by itself, but gives up on one answered with an error.
      if (events.readyState === EventSource.CLOSED) setTimeout(() => this.listen(), RECONNECT_MS);
    });
    events.addEventListener('consensus', (e) => this.onConsensus(JSON.parse(e.data)));
    events.addEventListener('block', (e) => this.onBlock(JSON.parse(e.data)));
    events.addEventListener('leader', (e) => this.onLeader(JSON.parse(e.data)));
    events.addEventListener('status', (e) => this.showStatus(JSON.parse(e.data)));
  }

  async getJson(path) {
    const response = await fetch(`${this.apiUrl}${path}`);
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  }

  async refresh() {
    try {
      const [status, consensus, blocks] = await Promise.all([
        this.getJson('/status'),
        this.getJson('/consensus'),
        this.getJson(`/blocks?limit=${BLOCKS_SHOWN}`),
      ]);
      this.showStatus(status);
      // The stream's snapshots are newer than any answer that was on its way when they arrived.
      if (!this.heardConsensus) this.showConsensus(consensus);
      for (const block of blocks) this.addBlock(block);
      this.setOnline(true);
    } catch {
      this.setOnline(false);
    }
  }

  setOnline(online) {
    this.element.classList.toggle('offline', !online);
    this.connection.textContent = online ? 'live' : 'unreachable: retrying';
  }

  showStatus(status) {
    this.facts.role.textContent = status.role;
    this.element.dataset.role = status.role;
    this.facts.height.textContent = String(Math.max(this.height, status.height));
    this.height = Math.max(this.height, status.height);
    if (!this.consensus) {
      this.facts.term.textContent = String(status.term);
      this.facts.leader.textContent = short(status.leader);
      this.facts.leader.title = status.leader ?? '';
    }
  }

  onConsensus(snapshot) {
    this.heardConsensus = true;
    const before = this.consensus;
    this.showConsensus(snapshot);
    const moves = [];
    for (const key of this.charts.keys()) {
      const from = before ? pathOf(before[key]?.state) : null;
      const to = pathOf(snapshot[key]?.state);
      if (from !== null && from !== to) moves.push(`${key} ${from} → ${to}`);
    }
    if (moves.length > 0) this.addLog('consensus', moves.join(' · '));
    else if (before && before.election.term !== snapshot.election.term)
      this.addLog('consensus', `term ${snapshot.election.term}`);
  }

  showConsensus(snapshot) {
    this.consensus = snapshot;
    for (const [key, chart] of this.charts) {
      const part = snapshot[key];
      if (!part) continue;
      chart.path = chart.highlight(part.state);
      chart.figure.dataset.current = chart.path;
      chart.where.textContent = `${chart.path} · ${CAPTIONS[key]?.(part) ?? ''}`;
    }
    const { election, pbft } = snapshot;
    this.facts.term.textContent = String(election.term);
    this.facts.leader.textContent = short(election.leader);
    this.facts.leader.title = election.leader ?? '';
    this.facts.round.textContent = `${pbft.round} (${pbft.step}, deciding h${pbft.height})`;
  }

  onBlock(block) {
    this.addBlock(block);
    this.addLog(
      'block',
      `#${block.height} ${short(block.seal)} · ${txCount(block)} txs · by ${short(block.creator)}`,
    );
    this.refreshStatusSoon();
  }

  onLeader({ leader, term }) {
    this.addLog('leader', leader ? `${short(leader)} leads term ${term}` : `no leader in term ${term}`);
    this.refreshStatusSoon();
  }

  /** Role and peers come with /status; ask once after a burst of events, not once per event. */
  refreshStatusSoon() {
    if (this.statusTimer) return;
    this.statusTimer = setTimeout(async () => {
      this.statusTimer = null;
      try {
        this.showStatus(await this.getJson('/status'));
      } catch {
        this.setOnline(false);
      }
    }, 300);
  }

  addBlock(block) {
    if (this.blocks.some((b) => b.height === block.height)) return;
    this.blocks.push(block);
    this.blocks.sort((a, b) => b.height - a.height);
    this.blocks.length = Math.min(this.blocks.length, BLOCKS_SHOWN);
    this.height = Math.max(this.height, block.height);
    this.facts.height.textContent = String(this.height);
    this.blockRows.replaceChildren(
      ...this.blocks.map((b) =>
        el(
          'tr',
          { 'data-height': b.height },
          el('td', {}, String(b.height)),
          el('td', { title: b.seal }, short(b.seal)),
          el('td', {}, String(txCount(b))),
          el('td', { title: b.creator }, short(b.creator)),
        ),
      ),
    );
  }

  addLog(kind, text) {
    const item = el(
      'li',
      { class: kind },
      el('time', {}, clock()),
      el('span', { class: 'kind' }, kind),
      text,
    );
    this.log.prepend(item);
    while (this.log.children.length > LOG_LINES) this.log.lastElementChild.remove();
  }
}

/** A block from /blocks carries its txs; the `block` event only their count. */
function txCount(block) {
  return block.txCount ?? block.txs?.length ?? 0;
}
