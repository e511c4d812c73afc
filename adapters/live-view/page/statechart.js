// Draws one machine's statechart as SVG from its outline (GET /statecharts.json), and highlights the
// state the machine is in. The layout is deliberately simple, so it can be read and trusted:
//
// - Each compound state (and the machine itself) stacks its children in one column, in the order the
//   arrows mostly point: a depth-first walk from the initial state ranks every state after the states
//   that lead to it (back edges aside), ties kept in the order the machine file declares them.
// - An arrow to the next state down the column is a short vertical arrow with its events beside it.
//   Every other arrow runs in a lane beside the column: arrows that go down on the left, arrows that go
//   back up (and loops) on the right, one lane each wherever they overlap, events written on the stub
//   that leaves the source state.
// - Transitions the machine defines at the top ("in any state") start from a dashed "any state" box.
//   Transitions without a target are listed inside their state after ↺.
// - A dot with a short arrow marks the initial state of the machine and of each compound state.

const SVG_NS = 'http://www.w3.org/2000/svg';
const FONT_FAMILY = '"DejaVu Sans", "Liberation Sans", Arial, sans-serif';
// Sizes are set on the SVG text itself and measured with the same fonts, so the boxes fit the text.
const FONTS = {
  name: { size: 12, weight: 'normal' },
  compound: { size: 12, weight: 'bold' },
  small: { size: 10, weight: 'normal' },
};
const SIZE = {
  boxMinWidth: 76,
  boxHeight: 26,
  boxPadX: 10,
  line: 12,
  header: 22,
  pad: 12,
  rowGap: 22,
  laneGap: 14,
  lane: 11,
  port: 14,
  corner: 5,
  wrap: 150,
};
const ALWAYS = 'always';
/** How long an arrow just taken stays drawn out. */
const TAKEN_MS = 1500;

let measureContext = null;
function textWidth(text, font) {
  measureContext ??= document.createElement('canvas').getContext('2d');
  measureContext.font = `${font.weight} ${font.size}px ${FONT_FAMILY}`;
  return Math.ceil(measureContext.measureText(text).width);
}

function svgText(parent, font, attributes, content) {
  const text = svg('text', { 'font-size': font.size, 'font-weight': font.weight, ...attributes }, parent);
  if (content !== undefined) text.textContent = content;
  return text;
}

function svg(tag, attributes = {}, parent = null) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  parent?.appendChild(element);
  return element;
}

function describeTransition(t) {
  const parts = [t.event === ALWAYS ? '(eventless)' : t.event];
  if (t.guard) parts.push(`[${t.guard}]`);
  if (t.actions.length) parts.push(`/ ${t.actions.join(', ')}`);
  return parts.join(' ');
}

function addOnce(list, item) {
  if (!list.includes(item)) list.push(item);
}

/** Greedy word wrap of a comma-separated list, for the ↺ lines inside a state. */
function wrapList(items, font, width) {
  const lines = [];
  let line = '';
  for (const item of items) {
    const next = line ? `${line}, ${item}` : `↺ ${item}`;
    if (line && textWidth(next, font) > width) {
      lines.push(`${line},`);
      line = item;
    } else {
      line = next;
    }
  }
  if (line) lines.push(line);
  return lines;
}

// ── the model: states as a tree, transitions grouped by (source, target) ─────────────────────────

function buildModel(outline) {
  const nodes = new Map();
  const container = { id: '#top', kind: 'top', children: [], parent: null, initialId: outline.rootInitialId };
  for (const s of outline.states) {
    const kind = s.type === 'compound' || s.type === 'parallel' ? 'compound' : 'atomic';
    nodes.set(s.id, { ...s, kind, name: s.path[s.path.length - 1], children: [], internal: [], titles: [] });
  }
  for (const node of nodes.values()) {
    node.parent = node.parentId === outline.rootId ? container : nodes.get(node.parentId);
    node.parent.children.push(node);
  }
  // The machine's own transitions start from an "any state" box that carries the root's id.
  const any = {
    id: outline.rootId,
    kind: 'any',
    name: 'any state',
    path: [],
    children: [],
    internal: [],
    titles: [],
    parent: container,
  };
  nodes.set(any.id, any);

  const groups = new Map();
  for (const t of outline.transitions) {
    const source = nodes.get(t.sourceId);
    if (t.targetIds.length === 0) {
      addOnce(source.internal, t.event);
      source.titles.push(`↺ ${describeTransition(t)}`);
      continue;
    }
    for (const targetId of t.targetIds) {
      const key = `${t.sourceId} → ${targetId}`;
      let edge = groups.get(key);
      if (!edge) {
        edge = { source, target: nodes.get(targetId), events: [], titles: [] };
        groups.set(key, edge);
      }
      addOnce(edge.events, t.event);
      edge.titles.push(describeTransition(t));
    }
  }
  const edges = [...groups.values()];
  if (any.internal.length > 0 || edges.some((e) => e.source === any)) container.children.unshift(any);
  return { container, nodes, edges };
}

function ancestors(node) {
  const chain = [];
  for (let at = node; at; at = at.parent) chain.push(at);
  return chain;
}

/** The child of `container` that is `node` or holds it. */
function liftTo(container, node) {
  for (let at = node; at; at = at.parent) if (at.parent === container) return at;
  return null;
}

// ── 1. the column order of every container ───────────────────────────────────────────────────────

function orderColumn(container, edges) {
  const any = container.children.find((c) => c.kind === 'any');
  const kids = container.children.filter((c) => c.kind !== 'any');
  const declared = new Map(kids.map((k, i) => [k, i]));
  const next = new Map(kids.map((k) => [k, new Set()]));
  for (const e of edges) {
    const u = liftTo(container, e.source);
    const v = liftTo(container, e.target);
    if (u && v && u !== v && next.has(u) && next.has(v)) next.get(u).add(v);
  }
  // Depth-first from the initial state; an arrow back to a state still on the walk is a back edge.
  const seen = new Map();
  const finished = [];
  const forward = new Map(kids.map((k) => [k, []]));
  const visit = (u) => {
    seen.set(u, 'walking');
    for (const v of kids) {
      if (!next.get(u).has(v)) continue;
      if (!seen.has(v)) {
        forward.get(u).push(v);
        visit(v);
      } else if (seen.get(v) === 'done') {
        forward.get(u).push(v);
      }
    }
    seen.set(u, 'done');
    finished.push(u);
  };
  const initial = kids.find((k) => k.id === container.initialId);
  if (initial) visit(initial);
  for (const k of kids) if (!seen.has(k)) visit(k);
  const rank = new Map(kids.map((k) => [k, 0]));
  for (const u of finished.reverse()) {
    for (const v of forward.get(u)) rank.set(v, Math.max(rank.get(v), rank.get(u) + 1));
  }
  kids.sort((a, b) => rank.get(a) - rank.get(b) || declared.get(a) - declared.get(b));
  container.children = any ? [any, ...kids] : kids;
  container.children.forEach((child, row) => {
    child.row = row;
  });
  for (const child of kids) if (child.kind === 'compound') orderColumn(child, edges);
}

// ── 2. what kind of arrow each transition is, and its lane ───────────────────────────────────────

function classify(edge, top) {
  const { source, target } = edge;
  const sourceLine = ancestors(source);
  const targetLine = ancestors(target);
  // The deepest container whose column holds both ends (one may be the other's ancestor).
  const container = sourceLine.find((c) => c !== source && c !== target && targetLine.includes(c)) ?? top;
  const u = liftTo(container, source);
  const v = liftTo(container, target);
  edge.container = container;
  if (u === v) {
    // A loop, a parent entering one of its own children, or a child leaving for its parent: the arrow
    // stays beside that one row of the column.
    const loop = source === target;
    const entersChild = !loop && targetLine.includes(source);
    edge.kind = entersChild ? 'left' : 'right';
    edge.rows = [u.row, u.row];
    edge.sourceGoes = loop ? 'same' : entersChild ? 'down' : 'up';
    edge.targetGoes = loop ? 'same' : entersChild ? 'up' : 'down';
    return;
  }
  const down = v.row > u.row;
  edge.kind = down ? (v.row === u.row + 1 && u === source && v === target ? 'direct' : 'left') : 'right';
  edge.rows = down ? [u.row, v.row] : [v.row, u.row];
  edge.sourceGoes = down ? 'down' : 'up';
  edge.targetGoes = down ? 'up' : 'down';
}

/** Interval colouring: the shortest spans take the inner lanes, overlapping spans never share one. */
function assignLanes(edges) {
  const byContainer = new Map();
  for (const e of edges) {
    if (e.kind === 'direct') continue;
    const key = e.container;
    if (!byContainer.has(key)) byContainer.set(key, { left: [], right: [] });
    byContainer.get(key)[e.kind].push(e);
  }
  for (const [container, sides] of byContainer) {
    container.lanes = { left: 0, right: 0 };
    for (const side of ['left', 'right']) {
      const taken = [];
      const list = sides[side].sort((a, b) => a.rows[1] - a.rows[0] - (b.rows[1] - b.rows[0]));
      for (const e of list) {
        let lane = 0;
        while (taken[lane]?.some((o) => o.rows[0] <= e.rows[1] && e.rows[0] <= o.rows[1])) lane++;
        taken[lane] ??= [];
        taken[lane].push(e);
        e.lane = lane;
        container.lanes[side] = Math.max(container.lanes[side], lane + 1);
      }
    }
  }
}

/** The stubs on each side of each state, ordered so that stubs and lanes do not cross. */
function assignPorts(edges) {
  const ported = new Set();
  for (const e of edges) {
    if (e.kind === 'direct') continue;
    for (const [node, role, goes] of [
      [e.source, 'source', e.sourceGoes],
      [e.target, 'target', e.targetGoes],
    ]) {
      node.ports ??= { left: [], right: [] };
      // A source stub carries the events above it, one line each; a target stub only the arrowhead.
      node.ports[e.kind].push({ edge: e, role, goes, slots: role === 'source' ? e.events.length : 1 });
      ported.add(node);
    }
  }
  // Going up: inner lanes on top. Going down: outer lanes on top. So no stub crosses a lane.
  const order = { up: 0, same: 1, down: 2 };
  for (const node of ported) {
    for (const side of ['left', 'right']) {
      node.ports[side].sort(
        (a, b) =>
          order[a.goes] - order[b.goes] ||
          (a.goes === 'up' ? a.edge.lane - b.edge.lane : b.edge.lane - a.edge.lane) ||
          (a.role === 'source' ? -1 : 1),
      );
    }
  }
}

function portSlots(node, side) {
  return (node.ports?.[side] ?? []).reduce((sum, p) => sum + p.slots, 0);
}

// ── 3. sizes, bottom up; 4. positions, top down ──────────────────────────────────────────────────

function measure(node, edges) {
  if (node.kind !== 'compound' && node.kind !== 'top') {
    node.lines = wrapList(node.internal, FONTS.small, SIZE.wrap);
    const textW = Math.max(
      // Measured bold: the current state's name is drawn bold.
      textWidth(node.name, { ...FONTS.name, weight: 'bold' }),
      ...node.lines.map((l) => textWidth(l, FONTS.small)),
    );
    const slots = Math.max(portSlots(node, 'left'), portSlots(node, 'right'));
    node.w = Math.max(SIZE.boxMinWidth, textW + 2 * SIZE.boxPadX);
    node.h = Math.max(SIZE.boxHeight + node.lines.length * SIZE.line, slots * SIZE.port + 8);
    return;
  }
  for (const child of node.children) measure(child, edges);
  const kids = node.children;
  const columnW = Math.max(...kids.map((k) => k.w));
  // Gaps: room for the labels of the direct arrow between two neighbours.
  node.gaps = kids.slice(1).map((k, i) => {
    const direct = edges.find((e) => e.kind === 'direct' && e.source === kids[i] && e.target === k);
    return Math.max(SIZE.rowGap, direct ? direct.events.length * SIZE.line + 10 : 0);
  });
  // Side room: the lanes, and the labels written on the stubs that leave for them.
  const lanes = node.lanes ?? { left: 0, right: 0 };
  let right = lanes.right ? SIZE.laneGap + lanes.right * SIZE.lane : 0;
  let left = lanes.left ? SIZE.laneGap + lanes.left * SIZE.lane : 0;
  for (const e of edges) {
    const holder = liftTo(node, e.source);
    if (!holder) continue;
    const slack = (columnW - holder.w) / 2;
    const labelW = Math.max(0, ...e.events.map((t) => textWidth(t, FONTS.small)));
    if (e.kind === 'direct' && e.container === node) right = Math.max(right, 6 + labelW - columnW / 2);
    if (e.container !== node) continue;
    if (e.kind === 'right') right = Math.max(right, 4 + labelW - slack);
    if (e.kind === 'left') left = Math.max(left, 4 + labelW - slack);
  }
  node.room = { left, right, columnW };
  const inner = node.kind === 'top' ? 0 : SIZE.pad;
  const headerW = node.kind === 'top' ? 0 : textWidth(node.name, FONTS.compound) + 2 * SIZE.pad;
  node.w = Math.max(headerW, left + columnW + right + 2 * inner);
  const header = node.kind === 'top' ? 0 : SIZE.header;
  node.h =
    header +
    inner +
    kids.reduce((sum, k) => sum + k.h, 0) +
    node.gaps.reduce((sum, g) => sum + g, 0) +
    inner +
    (node.kind === 'top' ? 0 : 4);
  const slots = Math.max(portSlots(node, 'left'), portSlots(node, 'right'));
  node.h = Math.max(node.h, slots * SIZE.port + 8);
}

function place(node, x, y) {
  node.x = x;
  node.y = y;
  if (node.kind !== 'compound' && node.kind !== 'top') return;
  const inner = node.kind === 'top' ? 0 : SIZE.pad;
  const header = node.kind === 'top' ? 0 : SIZE.header;
  const { left, columnW } = node.room;
  const slack = node.w - 2 * inner - left - columnW - node.room.right;
  node.axis = x + inner + left + slack / 2 + columnW / 2;
  node.laneX = {
    left: (i) => node.axis - columnW / 2 - SIZE.laneGap - i * SIZE.lane,
    right: (i) => node.axis + columnW / 2 + SIZE.laneGap + i * SIZE.lane,
  };
  let at = y + header + inner;
  node.children.forEach((child, i) => {
    place(child, node.axis - child.w / 2, at);
    at += child.h + (node.gaps[i] ?? 0);
  });
}

function portY(node, side, port) {
  const list = node.ports[side];
  const total = portSlots(node, side) * SIZE.port;
  const top = node.kind === 'compound' ? node.y + 4 : node.y + (node.h - total) / 2;
  let before = 0;
  for (const p of list) {
    if (p === port) break;
    before += p.slots;
  }
  return top + (before + port.slots) * SIZE.port - SIZE.port / 2 + 2;
}

// ── 5. drawing ───────────────────────────────────────────────────────────────────────────────────

let uniqueId = 0;

function lanePath(sx, sy, lx, tx, ty) {
  const dy = ty - sy;
  const r = Math.min(SIZE.corner, Math.abs(dy) / 2, Math.abs(lx - sx), Math.abs(lx - tx));
  const sv = Math.sign(dy) || 1;
  const sh = Math.sign(lx - sx) || 1;
  const th = Math.sign(tx - lx) || -1;
  return [
    `M${sx},${sy}`,
    `H${lx - sh * r}`,
    `Q${lx},${sy} ${lx},${sy + sv * r}`,
    `V${ty - sv * r}`,
    `Q${lx},${ty} ${lx + th * r},${ty}`,
    `H${tx}`,
  ].join(' ');
}

function drawLabel(parent, lines, x, baseline, anchor) {
  const text = svgText(parent, FONTS.small, { class: 'label', x, y: baseline, 'text-anchor': anchor });
  lines.forEach((line, i) => {
    const span = svg('tspan', { x, dy: i === 0 ? 0 : SIZE.line }, text);
    if (line === ALWAYS) span.setAttribute('class', 'eventless');
    span.textContent = line;
  });
  return text;
}

function drawEdge(layer, edge, marker) {
  const g = svg('g', { class: 'edge', 'data-source': edge.source.id, 'data-target': edge.target.id }, layer);
  svg('title', {}, g).textContent = edge.titles.join('\n');
  const { source: s, target: t } = edge;
  if (edge.kind === 'direct') {
    const axis = edge.container.axis;
    const y1 = s.y + s.h;
    const y2 = t.y;
    svg('path', { d: `M${axis},${y1} V${y2 - 1}`, 'marker-end': `url(#${marker})` }, g);
    const n = edge.events.length;
    drawLabel(g, edge.events, axis + 6, (y1 + y2) / 2 - (n * SIZE.line) / 2 + SIZE.line - 2, 'start');
    return;
  }
  const side = edge.kind;
  const sourcePort = s.ports[side].find((p) => p.edge === edge && p.role === 'source');
  const targetPort = t.ports[side].find((p) => p.edge === edge && p.role === 'target');
  const sy = portY(s, side, sourcePort);
  const ty = portY(t, side, targetPort);
  const sx = side === 'right' ? s.x + s.w : s.x;
  const tx = side === 'right' ? t.x + t.w : t.x;
  const lx = edge.container.laneX[side](edge.lane);
  svg(
    'path',
    { d: lanePath(sx, sy, lx, tx + (side === 'right' ? 1 : -1), ty), 'marker-end': `url(#${marker})` },
    g,
  );
  const n = edge.events.length;
  const anchor = side === 'right' ? 'start' : 'end';
  drawLabel(g, edge.events, side === 'right' ? sx + 4 : sx - 4, sy - 3 - (n - 1) * SIZE.line, anchor);
}

function drawState(layer, node) {
  const g = svg(
    'g',
    { class: `state ${node.kind}`, 'data-state-id': node.id, 'data-path': node.path.join('.') },
    layer,
  );
  const titles = [node.description, node.transient ? 'decides at once: never at rest' : '', ...node.titles];
  svg('title', {}, g).textContent = [node.kind === 'any' ? 'in any state' : node.path.join('.'), ...titles]
    .filter(Boolean)
    .join('\n');
  const rx = node.kind === 'compound' ? 10 : 8;
  const rect = svg('rect', { x: node.x, y: node.y, width: node.w, height: node.h, rx }, g);
  if (node.transient) rect.classList.add('transient');
  if (node.type === 'final')
    svg(
      'rect',
      { x: node.x + 3, y: node.y + 3, width: node.w - 6, height: node.h - 6, rx: rx - 2, class: 'inner' },
      g,
    );
  if (node.kind === 'compound') {
    svgText(g, FONTS.compound, { class: 'name', x: node.x + SIZE.pad, y: node.y + 16 }, node.name);
    svg(
      'line',
      {
        class: 'divider',
        x1: node.x,
        x2: node.x + node.w,
        y1: node.y + SIZE.header,
        y2: node.y + SIZE.header,
      },
      g,
    );
    return;
  }
  const textH = SIZE.boxHeight + node.lines.length * SIZE.line;
  const top = node.y + (node.h - textH) / 2;
  const x = node.x + node.w / 2;
  svgText(g, FONTS.name, { class: 'name', x, y: top + 17, 'text-anchor': 'middle' }, node.name);
  node.lines.forEach((line, i) => {
    const y = top + 17 + (i + 1) * SIZE.line;
    svgText(g, FONTS.small, { class: 'internal', x, y, 'text-anchor': 'middle' }, line);
  });
}

function drawInitial(layer, container, marker) {
  const initial = container.children.find((c) => c.id === container.initialId);
  if (!initial) return;
  const x = initial.x + 12;
  svg('circle', { class: 'initial', cx: x, cy: initial.y - 11, r: 3.5 }, layer);
  svg(
    'path',
    { class: 'initial', d: `M${x},${initial.y - 8} V${initial.y - 1}`, 'marker-end': `url(#${marker})` },
    layer,
  );
}

function defineMarker(defs, id, className) {
  const marker = svg(
    'marker',
    {
      id,
      viewBox: '0 0 8 8',
      refX: 7,
      refY: 4,
      markerWidth: 7,
      markerHeight: 7,
      orient: 'auto-start-reverse',
    },
    defs,
  );
  svg('path', { d: 'M0,0 L8,4 L0,8 z', class: className }, marker);
}

/**
 * Renders `entry` ({key, title, outline}) into a new <svg>. Returns it with `highlight(value)`, which
 * marks the active states of an XState state value ('idle', {round: 'prevote'}) and returns the path
 * of the innermost one ('round.prevote').
 */
export function renderStatechart(entry) {
  const { container, nodes, edges } = buildModel(entry.outline);
  orderColumn(container, edges);
  for (const e of edges) classify(e, container);
  assignLanes(edges);
  assignPorts(edges);
  measure(container, edges);
  place(container, 0, 0);

  const root = svg('svg', { class: 'statechart', role: 'img', 'font-family': FONT_FAMILY });
  svg('title', {}, root).textContent = `${entry.title}: statechart of machines/${entry.name}`;
  const defs = svg('defs', {}, root);
  const id = `sc${++uniqueId}`;
  defineMarker(defs, `${id}-arrow`, 'arrowhead');
  defineMarker(defs, `${id}-taken`, 'arrowhead taken');
  const statesLayer = svg('g', { class: 'states' }, root);
  const edgesLayer = svg('g', { class: 'edges' }, root);
  const all = [];
  const walk = (node) => {
    for (const child of node.children) {
      all.push(child);
      walk(child);
    }
  };
  walk(container);
  for (const node of all) drawState(statesLayer, node);
  for (const node of [container, ...all.filter((n) => n.kind === 'compound')])
    drawInitial(edgesLayer, node, `${id}-arrow`);
  for (const edge of edges) drawEdge(edgesLayer, edge, `${id}-arrow`);

  // The viewBox is whatever was drawn, with a margin: labels may stick out of the column's room.
  document.body.appendChild(root);
  const box = root.getBBox();
  root.remove();
  const m = 6;
  root.setAttribute('viewBox', `${box.x - m} ${box.y - m} ${box.width + 2 * m} ${box.height + 2 * m}`);
  root.setAttribute('width', String(Math.ceil(box.width + 2 * m)));
  root.dataset.naturalWidth = String(Math.ceil(box.width + 2 * m));

  const rootId = entry.outline.rootId;
  let active = new Set();
  const fading = new Map();
  function showTaken(g) {
    clearTimeout(fading.get(g));
    g.classList.add('taken');
    g.querySelector('path')?.setAttribute('marker-end', `url(#${id}-taken)`);
    const fade = () => {
      g.classList.remove('taken');
      g.querySelector('path')?.setAttribute('marker-end', `url(#${id}-arrow)`);
    };
    fading.set(g, setTimeout(fade, TAKEN_MS));
  }
  function highlight(value) {
    const ids = new Set(activeStateIds(rootId, value));
    const fresh = [...ids].filter((i) => !active.has(i));
    for (const g of root.querySelectorAll('.state')) {
      const stateId = g.dataset.stateId;
      g.classList.toggle('active', ids.has(stateId));
      g.classList.toggle('current', ids.has(stateId) && !hasActiveChild(nodes.get(stateId), ids));
    }
    // The arrows that can have brought the machine here: from a state it left (or from "any state")
    // to a state it entered. Shown for a moment; several when the snapshot cannot tell them apart.
    if (active.size > 0) {
      for (const g of root.querySelectorAll('.edge')) {
        const taken =
          (active.has(g.dataset.source) || g.dataset.source === rootId) && fresh.includes(g.dataset.target);
        if (taken) showTaken(g);
      }
    }
    active = ids;
    return pathOf(value);
  }
  return { element: root, highlight };
}

function hasActiveChild(node, ids) {
  return (node?.children ?? []).some((c) => ids.has(c.id));
}

/** Ids of every state a state value says is active, ancestors included (as outline.ts computes them). */
export function activeStateIds(rootId, value) {
  if (typeof value === 'string') return [`${rootId}.${value}`];
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const id = `${rootId}.${key}`;
    return [id, ...activeStateIds(id, child)];
  });
}

/** 'idle' → 'idle'; {round: 'prevote'} → 'round.prevote'. */
export function pathOf(value) {
  if (typeof value === 'string') return value;
  if (!value || typeof value !== 'object') return '';
  const [key, child] = Object.entries(value)[0] ?? [];
  if (key === undefined) return '';
  const rest = pathOf(child);
  return rest ? `${key}.${rest}` : key;
}
