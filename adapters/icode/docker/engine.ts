// Where the Docker engine for iCode containers listens. scripts/docker-engine.sh starts a dockerd of
// the project's own under $ITCHAIN_DOCKER_DIR (default /tmp/itchain-docker); ITCHAIN_DOCKER_SOCKET
// points somewhere else (e.g. /var/run/docker.sock on a machine with a system engine).

import { join } from 'node:path';
import Docker from 'dockerode';

export const DEFAULT_DOCKER_DIR = '/tmp/itchain-docker';

export function dockerSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.ITCHAIN_DOCKER_SOCKET ?? join(env.ITCHAIN_DOCKER_DIR ?? DEFAULT_DOCKER_DIR, 'docker.sock');
}

export function dockerClient(socketPath = dockerSocketPath()): Docker {
  return new Docker({ socketPath });
}
