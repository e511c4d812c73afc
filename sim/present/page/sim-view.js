// The page of `itchain sim --web`: one simulated run, step by step. The run is decided already (the
// server computed it from the seed); this page only walks through it: play, pause, one step forward
// or back, or jump anywhere with the slider. For every node it draws the protocol statecharts with
// the live view's own code and lights the state each machine is in after the step shown.
//
//   GET /run, /statecharts.json      once
//   GET /steps?from=i&limit=100      in chunks, as the walk reaches them

import { renderStatechart } from '/live-view/statechart.js';

const CHUNK = 100;
/** Steps kept in the step log (older ones scroll out). */
const LOG_STEPS = 80;
const SHOWN_AT_START = new Set(['election', 'pbft']);

const field = (name) => document.querySelector(`[data-field="${name}"]`);
const action = (name) => document.querySelector(`[data-action="${name}"]`);

function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  element.append(...children);
  return element;
}

async function getJson(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path} answered HTTP ${response.status}`);
  return response.json();
}

/** 'round.prevote' → {round: 'prevote'}: the XState state value the chart highlights. */
function stateValueOf(path) {
  const [head, ...tail] = path.split('.');
  return tail.length === 0 ? head : { [head]: stateValueOf(tail.join('.')) };
}

/** The run's steps, fetched in chunks and kept. */
class Steps {
  constructor(total) {
    this.total = total;
    this.chunks = new Map();
  }

  async get(index) {
    const chunk = Math.floor(index / CHUNK);
    if (!this.chunks.has(chunk)) {
      this.chunks.set(
        chunk,
        getJson(`/steps?from=${chunk * CHUNK}&limit=${CHUNK}`).then((page) => page.steps),
      );
    }
    return (await this.chunks.get(chunk))[index - chunk * CHUNK];
  }
}

/** One node: its facts and its statecharts. */
class NodeCard {
  constructor(node, machines, parent) {
    this.facts = {};
    const fact = (name) => {
      this.facts[name] = el('dd', { 'data-fact': name }, '—');
      return [el('dt', {}, name), this.facts[name]];
    };
    const header = el(
      'header',
      {},
      el('h2', {}, node.name),
      node.honest ? '' : el('span', { class: 'byzantine' }, 'byzantine'),
      el('dl', { class: 'facts' }, ...fact('role'), ...fact('term'), ...fact('leader'), ...fact('height')),
    );
    this.charts = new Map();
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
      figure.hidden = !SHOWN_AT_START.has(machine.key);
      charts.append(figure);
      this.charts.set(machine.key, { ...chart, figure, where, path: null });
    }
    this.element = el('section', { class: 'node', 'data-node': node.name }, header, charts);
    parent.append(this.element);
  }

  show(view) {
    this.element.classList.toggle('offline', !view.up);
    this.element.dataset.role = view.role;
    this.facts.role.textContent = view.up ? view.role || '—' : 'down';
    this.facts.term.textContent = String(view.term);
    this.facts.leader.textContent = view.leader ?? '—';
    this.facts.height.textContent = String(view.height);
    for (const [key, chart] of this.charts) {
      const machine = view.machines[key];
      if (!machine) continue;
      if (chart.path !== machine.state) chart.highlight(stateValueOf(machine.state));
      chart.path = machine.state;
      chart.figure.dataset.current = machine.state;
      chart.where.textContent = `${machine.state} · ${machine.facts}`;
    }
  }

  showMachine(key, shown) {
    const chart = this.charts.get(key);
    if (chart) chart.figure.hidden = !shown;
  }
}

class Player {
  constructor(run, machines) {
    this.run = run;
    this.steps = new Steps(run.steps);
    this.current = -1;
    this.timer = null;
    this.busy = Promise.resolve();
    this.log = field('log');
    this.seek = field('seek');
    this.seek.max = String(Math.max(0, run.steps - 1));
    const nodes = field('nodes');
    this.cards = run.nodes.map((node) => new NodeCard(node, machines, nodes));
    this.position = field('position');
  }

  /** Runs one move at a time, in order, whatever the clicks and timers ask. */
  queue(move) {
    this.busy = this.busy.then(move).catch((error) => showNotice(error.message));
    return this.busy;
  }

  async show(index) {
    const target = Math.max(0, Math.min(index, this.run.steps - 1));
    if (target === this.current) return;
    const sequential = target > this.current && target - this.current <= LOG_STEPS && this.current >= 0;
    const first = sequential ? this.current + 1 : Math.max(0, target - LOG_STEPS + 1);
    if (!sequential) this.log.replaceChildren();
    for (let i = first; i <= target; i++) this.addToLog(await this.steps.get(i));
    while (this.log.children.length > LOG_STEPS) this.log.firstElementChild.remove();
    const step = await this.steps.get(target);
    for (const [i, view] of step.nodes.entries()) this.cards[i].show(view);
    for (const item of this.log.querySelectorAll('.current')) item.classList.remove('current');
    this.log.lastElementChild?.classList.add('current');
    this.log.lastElementChild?.scrollIntoView({ block: 'nearest' });
    this.current = target;
    this.seek.value = String(target);
    this.position.textContent = `step #${step.step} · ${step.timeMs} ms virtual · ${target + 1} of ${this.run.steps}`;
    document.body.dataset.step = String(step.step);
  }

  addToLog(step) {
    const item = el('li', { class: step.notable ? 'notable' : 'quiet', 'data-index': step.index });
    item.textContent = step.lines.join('\n');
    item.addEventListener('click', () => {
      this.pause();
      this.queue(() => this.show(step.index));
    });
    this.log.append(item);
  }

  /** The next step to stop at: the next one, or with "only steps that change something", the next notable one. */
  async nextIndex(from) {
    const brief = field('brief').checked;
    for (let i = from + 1; i < this.run.steps; i++) {
      if (!brief || (await this.steps.get(i)).notable) return i;
    }
    return this.run.steps - 1;
  }

  async previousIndex(from) {
    const brief = field('brief').checked;
    for (let i = from - 1; i > 0; i--) {
      if (!brief || (await this.steps.get(i)).notable) return i;
    }
    return 0;
  }

  forward() {
    return this.queue(async () => this.show(await this.nextIndex(this.current)));
  }

  back() {
    return this.queue(async () => this.show(await this.previousIndex(this.current)));
  }

  play() {
    if (this.timer !== null) return;
    action('play').textContent = '⏸ pause';
    const tick = async () => {
      await this.forward();
      if (this.timer === null) return;
      if (this.current >= this.run.steps - 1) {
        this.pause();
        return;
      }
      this.timer = setTimeout(tick, 1000 / Number(field('speed').value));
    };
    this.timer = setTimeout(tick, 0);
  }

  pause() {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    action('play').textContent = '▶ play';
  }

  toggle() {
    if (this.timer === null) this.play();
    else this.pause();
  }
}

function showNotice(text) {
  const notice = document.querySelector('.notice');
  notice.hidden = false;
  notice.textContent = text;
}

try {
  const [run, statecharts] = await Promise.all([getJson('/run'), getJson('/statecharts.json')]);
  document.title = `itchain sim · ${run.scenario} · seed ${run.seed}`;
  field('title').textContent = `· ${run.scenario} · seed ${run.seed} · ${run.nodes.length} nodes`;
  field('description').textContent =
    `${run.description} Replay it in a terminal: ${run.replay}` +
    (run.violations.length ? ` — the checker found: ${run.violations.join('; ')}` : '');
  field('summary').textContent = run.summary.join('\n');

  const player = new Player(run, statecharts.machines);
  const toggles = field('machines');
  for (const machine of statecharts.machines) {
    const box = el('input', { type: 'checkbox', 'data-machine': machine.key });
    box.checked = SHOWN_AT_START.has(machine.key);
    box.addEventListener('change', () => {
      for (const card of player.cards) card.showMachine(machine.key, box.checked);
    });
    toggles.append(el('label', {}, box, ` ${machine.title} `));
  }

  action('play').addEventListener('click', () => player.toggle());
  action('step').addEventListener('click', () => {
    player.pause();
    player.forward();
  });
  action('back').addEventListener('click', () => {
    player.pause();
    player.back();
  });
  action('restart').addEventListener('click', () => {
    player.pause();
    player.queue(() => player.show(0));
  });
  field('seek').addEventListener('input', (event) => {
    player.pause();
    player.queue(() => player.show(Number(event.target.value)));
  });
  document.addEventListener('keydown', (event) => {
    if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement) return;
    if (event.key === ' ') player.toggle();
    else if (event.key === 'ArrowRight') action('step').click();
    else if (event.key === 'ArrowLeft') action('back').click();
    else if (event.key === 'Home') action('restart').click();
    else return;
    event.preventDefault();
  });

  await player.queue(() => player.show(0));
  document.body.dataset.ready = 'true';
} catch (error) {
  showNotice(`The run could not be shown: ${error.message}`);
}
