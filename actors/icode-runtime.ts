import type { Logger } from 'pino';
import { DockerRuntime } from '../adapters/icode/docker/docker-runtime.ts';
import { dockerSocketPath } from '../adapters/icode/docker/engine.ts';
import type { IvmLimits } from '../adapters/icode/limits.ts';
import { QuickJsRuntime } from '../adapters/icode/quickjs/quickjs-runtime.ts';
import type { IcodeRuntime } from '../adapters/icode/runtime.ts';
import type { Config } from '../config/schema.ts';

// The node's iCode runtime from its `ivm` config section: QuickJS (default) or Docker. Gas and memory
// limits decide which txs fail, so every node of a network must run with the same values (and the
// same runtime: Docker bounds compute by wall-clock time, not by counted steps).
//
// Docker: the engine is found at $ITCHAIN_DOCKER_SOCKET, else $ITCHAIN_DOCKER_DIR/docker.sock
// (default /tmp/itchain-docker; scripts/docker-engine.sh starts one there). The image is built from
// the host's node on first use when it is missing (scripts/build-icode-image.sh builds it ahead).

export function ivmLimitsOf(ivm: Config['ivm']): Partial<IvmLimits> {
  return { gasLimit: ivm.gasLimit, memoryBytes: ivm.memoryLimitMb * 1024 * 1024 };
}

export function openIcodeRuntime(ivm: Config['ivm'], log: Logger): IcodeRuntime {
  const limits = ivmLimitsOf(ivm);
  // An iCode's console.* lines: debug lines of the node, tagged with the iCode.
  const icodeLog = (icodeId: string, level: string, message: string) =>
    log.debug({ icode: icodeId, level }, message);
  if (ivm.runtime === 'docker') {
    return new DockerRuntime({ limits, socketPath: dockerSocketPath(), log: icodeLog });
  }
  return new QuickJsRuntime({ limits, log: icodeLog });
}
