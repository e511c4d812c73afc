// The live view in headless Chromium (issue 6, item 2): four stand-in nodes on 127.0.0.1, each a real
// Koa server with the real live-view routes and a stand-in API whose state comes from a scripted run
// of the real machines (an election, then three blocks through PBFT rounds). The page loads from one
// node, follows all four, and after every step of the run it must highlight exactly the states the
// machines are in. Screenshots go to a temp dir (printed), or to $LIVE_VIEW_SCREENSHOTS.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateValue } from 'xstate';
import { CONSENSUS_MACHINES } from '../../adapters/live-view/consensus-snapshot.ts';
import type { NetworkNode } from '../../adapters/live-view/live-view-routes.ts';
import { openChromium, type WatchedBrowser } from './chromium.ts';
import { ScriptedNetwork, type ScriptedNode } from './scripted-network.ts';
import { type StandInNode, startStandInNode } from './stand-in-node.ts';

type Paths = Record<string, Record<string, string>>;

/** A state value as the page names the highlighted state: {round: 'prevote'} → 'round.prevote'. */
function statePath(value: StateValue): string {
  if (typeof value === 'string') return value;
  const [key, child] = Object.entries(value)[0] ?? [''];
  return child === undefined ? key : `${key}.${statePath(child)}`;
}

/** Where every machine of every node is now, by node id and snapshot key. */
function machinePaths(nodes: readonly ScriptedNode[]): Paths {
  const paths: Paths = {};
  for (const node of nodes) {
    paths[node.nodeId] = Object.fromEntries(
      CONSENSUS_MACHINES.map((key) => [key, statePath(node.actors[key].getSnapshot().value)]),
    );
  }
  return paths;
}

/**
 * What the page highlights: the `data-path` of each chart's current state, by node id and machine key
 * ('*' when a chart marks several states current, '' when none). Run in the page.
 */
const HIGHLIGHTED = `(() => {
  const paths = {};
  for (const panel of document.querySelectorAll('section.node')) {
    const charts = {};
    for (const figure of panel.querySelectorAll('figure.chart')) {
      const current = figure.querySelectorAll('.state.current');
      charts[figure.dataset.machine] = current.length === 1 ? current[0].dataset.path : current.length ? '*' : '';
    }
    paths[panel.dataset.nodeId] = charts;
  }
  return paths;
})()`;

function highlighted(page: Page): Promise<Paths> {
  return page.evaluate<Paths>(HIGHLIGHTED);
}

async function waitUntilShown(page: Page, expected: Paths): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const shown = await highlighted(page);
    if (isDeepStrictEqual(shown, expected)) return;
    if (Date.now() > deadline)
      expect(shown, 'the page highlights the states the machines are in').toEqual(expected);
    await page.waitForTimeout(15);
  }
}

const network = new ScriptedNetwork(4);
const [first] = network.nodes;
const nodes: NetworkNode[] = [];
const servers: StandInNode[] = [];
let browser: WatchedBrowser;
const shots = process.env.LIVE_VIEW_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'itchain-live-view-'));

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  for (const node of network.nodes) {
    const server = await startStandInNode(node, () => nodes);
    servers.push(server);
    nodes.push({ nodeId: node.nodeId, apiUrl: server.apiUrl });
  }
  browser = await openChromium();
});

afterAll(async () => {
  await browser?.close();
  for (const server of servers) await server.close();
});

describe('live view in headless Chromium', () => {
  it('follows a scripted 4-node run (stand-in API over real machines): the highlighted states change as blocks commit', async () => {
    const { page } = browser;
    await page.goto(`${nodes[0]!.apiUrl}/`);
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.locator('section.node').count()).toBe(4);
    expect(await page.locator('figure.chart svg.statechart').count()).toBe(16);
    await waitUntilShown(page, machinePaths(network.nodes));

    const leaderPanel = page.locator(`section.node[data-node-id="${first!.nodeId}"]`);
    const pbftOf = (node: ScriptedNode) =>
      page.locator(`section.node[data-node-id="${node.nodeId}"] figure[data-machine="pbft"] .state.current`);
    const seenByLeader: string[] = [(await pbftOf(first!).getAttribute('data-path')) ?? ''];
    let shotMidRound = '';

    /** Drains the run one delivery at a time; after each change the page must show it. */
    async function play(): Promise<void> {
      let last = JSON.stringify(machinePaths(network.nodes));
      while (network.step()) {
        const now = machinePaths(network.nodes);
        if (JSON.stringify(now) === last) continue;
        last = JSON.stringify(now);
        await waitUntilShown(page, now);
        const path = (await pbftOf(first!).getAttribute('data-path')) ?? '';
        if (path !== seenByLeader[seenByLeader.length - 1]) seenByLeader.push(path);
        if (path === 'round.prevote' && shotMidRound === '') {
          // The arrow just taken is drawn out for a moment.
          const taken = leaderPanel.locator(
            'figure[data-machine="pbft"] .edge.taken[data-source="pbft.round.propose"][data-target="pbft.round.prevote"]',
          );
          expect(await taken.count()).toBe(1);
          shotMidRound = join(shots, 'live-view-mid-round.png');
          await page.screenshot({ path: shotMidRound, fullPage: true });
        }
      }
    }

    network.startSync();
    network.electionTimeout(first!);
    await play();
    await expect.poll(() => leaderPanel.locator('[data-fact="role"]').textContent()).toBe('leader');
    expect(await leaderPanel.locator('figure[data-machine="election"]').getAttribute('data-current')).toBe(
      'leader',
    );

    for (const height of [1, 2, 3]) {
      for (const node of network.nodes) expect(await pbftOf(node).getAttribute('data-path')).toBe('idle');
      seenByLeader.splice(0, seenByLeader.length, 'idle');
      network.submitTxs(first!, height + 1);
      await play();
      // The leader's PBFT chart walked the whole round, and every panel shows the new block.
      expect(seenByLeader).toEqual([
        'idle',
        'round.propose',
        'round.prevote',
        'round.precommit',
        'committed',
        'idle',
      ]);
      for (const node of network.nodes) {
        const panel = page.locator(`section.node[data-node-id="${node.nodeId}"]`);
        expect(await pbftOf(node).getAttribute('data-path')).toBe('idle');
        await expect.poll(() => panel.locator('[data-fact="height"]').textContent()).toBe(String(height));
        expect(await panel.locator('.blocks tbody tr').first().getAttribute('data-height')).toBe(
          String(height),
        );
      }
    }
    await expect.poll(() => leaderPanel.locator('ol.log li.block').first().textContent()).toContain('#3');
    expect(await leaderPanel.locator('.blocks tbody tr').first().locator('td').nth(2).textContent()).toBe(
      '4',
    );

    const shotEnd = join(shots, 'live-view-after-3-blocks.png');
    await page.screenshot({ path: shotEnd, fullPage: true });
    const shotPanel = join(shots, 'live-view-leader-panel.png');
    await leaderPanel.screenshot({ path: shotPanel });
    console.log(`live view screenshots: ${shotMidRound}, ${shotEnd}, ${shotPanel}`);
    expect(shotMidRound).not.toBe('');

    const origins = new Set(
      browser.requests.filter((url) => !url.startsWith('data:')).map((url) => new URL(url).hostname),
    );
    expect([...origins], 'no request leaves 127.0.0.1').toEqual(['127.0.0.1']);
    // Every panel reached its own node: the page read four APIs.
    for (const node of nodes)
      expect(browser.requests.some((url) => url.startsWith(`${node.apiUrl}/events`))).toBe(true);
    expect(browser.problems, 'console errors, uncaught exceptions, failed requests').toEqual([]);
  });
});
