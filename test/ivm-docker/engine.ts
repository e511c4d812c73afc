// The real Docker engine these tests need. CI starts it and builds the image before `npm test`
// (scripts/docker-engine.sh, scripts/build-icode-image.sh); a developer's run starts it here with the
// same script. No engine is a failure with the reason, never a skip. The engine is left running for
// the next run; `scripts/docker-engine.sh stop` stops it.

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { dockerClient } from '../../adapters/icode/docker/engine.ts';
import { ensureIcodeImage } from '../../adapters/icode/docker/image.ts';

const ENGINE_SCRIPT = fileURLToPath(new URL('../../scripts/docker-engine.sh', import.meta.url));

/** For the hook that calls dockerEngine(): installing docker.io (when CI has not) takes a while. */
export const ENGINE_TIMEOUT_MS = 300_000;

async function socketOfEngine(): Promise<string> {
  if (process.env.ITCHAIN_DOCKER_SOCKET) return process.env.ITCHAIN_DOCKER_SOCKET;
  try {
    const { stdout } = await promisify(execFile)(ENGINE_SCRIPT, { timeout: ENGINE_TIMEOUT_MS - 10_000 });
    return stdout.trim().split('\n').pop() ?? '';
  } catch (e) {
    const stderr = (e as { stderr?: string }).stderr ?? String(e);
    throw new Error(
      `the Docker iCode tests need a Docker engine; scripts/docker-engine.sh failed:\n${stderr}`,
    );
  }
}

/** A client of the running engine, with the iCode image built. */
export async function dockerEngine(): Promise<{ docker: Docker; socketPath: string; image: string }> {
  const socketPath = await socketOfEngine();
  const docker = dockerClient(socketPath);
  try {
    await docker.ping();
  } catch (e) {
    throw new Error(
      `the Docker engine at ${socketPath} does not answer: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const image = await ensureIcodeImage(docker);
  return { docker, socketPath, image };
}
