// Runs a probe inside a running iCode container with `docker exec` (same namespaces, user, cgroup and
// security options as the runner): what code that got out of the iCode's realm into the container's
// node process could do there.

import type Docker from 'dockerode';
import { FrameDecoder } from '../../adapters/icode/docker/protocol.ts';

export interface ProbeReport {
  uid: number;
  gid: number;
  interfaces: string[];
  capEff: string;
  noNewPrivs: string;
  rootWrite: string;
  tmpWrite: string;
  connect: string;
}

const PROBE = `
const fs = require('node:fs'), net = require('node:net'), os = require('node:os');
const out = { uid: process.getuid(), gid: process.getgid(), interfaces: Object.keys(os.networkInterfaces()) };
const status = fs.readFileSync('/proc/self/status', 'utf8');
out.capEff = /CapEff:\\s*(\\S+)/.exec(status)[1];
out.noNewPrivs = /NoNewPrivs:\\s*(\\S+)/.exec(status)[1];
try { fs.writeFileSync('/usr/bin/planted', 'x'); out.rootWrite = 'written'; } catch (e) { out.rootWrite = e.code; }
try { fs.writeFileSync('/tmp/scratch', 'x'); out.tmpWrite = 'written'; } catch (e) { out.tmpWrite = e.code; }
const done = () => { console.log(JSON.stringify(out)); process.exit(0); };
const socket = net.connect({ host: '1.1.1.1', port: 53 });
socket.on('connect', () => { out.connect = 'connected'; done(); });
socket.on('error', (e) => { out.connect = e.code; done(); });
setTimeout(() => { out.connect = 'timeout'; done(); }, 3000);
`;

export async function probeContainer(
  docker: Docker,
  containerId: string,
  node: string,
): Promise<ProbeReport> {
  const exec = await docker.getContainer(containerId).exec({
    Cmd: [node, '-e', PROBE],
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const frames = new FrameDecoder(
    (b) => stdout.push(Buffer.from(b)),
    (b) => stderr.push(Buffer.from(b)),
  );
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (b: Buffer) => frames.push(b));
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  const text = Buffer.concat(stdout).toString('utf8').trim();
  if (!text) throw new Error(`the probe printed nothing; stderr: ${Buffer.concat(stderr).toString('utf8')}`);
  return JSON.parse(text) as ProbeReport;
}
