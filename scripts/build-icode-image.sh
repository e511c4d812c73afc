#!/usr/bin/env bash
# Builds local/itchain-icode:<node version>-<runner hash> (the Docker iCode runtime's image) from the
# host's own node binary, its shared libraries and the container-side runner, in the engine that
# scripts/docker-engine.sh started ($ITCHAIN_DOCKER_DIR or $ITCHAIN_DOCKER_SOCKET). Skips the build
# when the image exists. Prints the tag.
set -euo pipefail
cd "$(dirname "$0")/.."
exec npx tsx adapters/icode/docker/build-image.ts
