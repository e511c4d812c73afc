// The live view's entry point: asks the serving node for the network's nodes and for the machines'
// outlines, then gives every node a panel that follows that node's own API.

import { NodePanel } from './node-panel.js';

async function getJson(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path} answered HTTP ${response.status}`);
  return response.json();
}

const main = document.querySelector('main');
const notice = document.querySelector('.notice');

try {
  const [nodes, statecharts] = await Promise.all([getJson('/network/nodes'), getJson('/statecharts.json')]);
  if (nodes.length === 0) {
    notice.hidden = false;
    notice.textContent = 'This node knows no network nodes yet.';
  }
  for (const node of nodes) new NodePanel(node, statecharts.machines, main).start();
  document.body.dataset.ready = 'true';
} catch (error) {
  notice.hidden = false;
  notice.textContent = `The live view could not start: ${error.message}`;
}
