// `tsx adapters/icode/docker/build-image.ts`: builds the iCode image in the engine at
// dockerSocketPath() unless it exists, and prints its tag. scripts/build-icode-image.sh runs it, so CI
// builds the image once before the tests (the runtime would otherwise build it on first use).

import { dockerClient, dockerSocketPath } from './engine.ts';
import { ensureIcodeImage, icodeImageTag, imageExists } from './image.ts';

const socket = dockerSocketPath();
const docker = dockerClient(socket);
const tag = icodeImageTag();
const started = performance.now();
try {
  const existed = await imageExists(docker, tag);
  await ensureIcodeImage(docker, tag);
  const ms = Math.round(performance.now() - started);
  console.error(existed ? `${tag} exists` : `built ${tag} in ${ms} ms`);
  console.log(tag);
} catch (e) {
  console.error(
    `cannot build ${tag} with the engine at ${socket}: ${e instanceof Error ? e.message : String(e)}`,
  );
  console.error('start the engine first: scripts/docker-engine.sh');
  process.exit(1);
}
