#!/usr/bin/env bash
# The Docker engine the Docker iCode runtime and its tests use: a dockerd of the project's own, under
# $ITCHAIN_DOCKER_DIR (default /tmp/itchain-docker), reachable at $ITCHAIN_DOCKER_DIR/docker.sock.
# Machines without systemd (CI, containers) have no engine running, so this script starts one.
#
#   scripts/docker-engine.sh          install docker.io if dockerd is missing, start dockerd if its
#                                     socket does not answer, wait for it, print the socket path
#   scripts/docker-engine.sh stop     stop that dockerd (by its pid file)
#
# Idempotent and safe to run concurrently: with the engine up it only prints the socket path.
set -euo pipefail

DIR="${ITCHAIN_DOCKER_DIR:-/tmp/itchain-docker}"
SOCK="$DIR/docker.sock"
PIDFILE="$DIR/dockerd.pid"
LOG="$DIR/dockerd.log"

answers() {
  docker -H "unix://$SOCK" info >/dev/null 2>&1
}

stop_engine() {
  if [[ -f "$PIDFILE" ]]; then
    local pid
    pid="$(cat "$PIDFILE")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      # dockerd stops its containers and its containerd first; give it the time it needs.
      for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then
        echo "dockerd (pid $pid) did not stop within 30 s: killing it" >&2
        kill -9 "$pid" 2>/dev/null || true
      fi
    fi
    rm -f "$PIDFILE"
  fi
  echo "dockerd stopped ($DIR)"
}

install_engine() {
  echo "dockerd not found: installing docker.io" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq docker.io >&2
}

start_engine() {
  mkdir -p "$DIR/data" "$DIR/exec"
  # A stale pid file or socket from a killed engine would stop the new one from starting.
  if [[ -f "$PIDFILE" ]] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then rm -f "$PIDFILE"; fi
  if [[ -f "$PIDFILE" ]]; then
    echo "dockerd (pid $(cat "$PIDFILE")) is running but $SOCK does not answer yet; waiting" >&2
  else
    rm -f "$SOCK"
    # setsid: the engine outlives this script and the shell that ran it (CI runs the tests afterwards);
    # 9>&-: it must not inherit the start lock, or the next caller would wait for it forever.
    setsid dockerd \
      --data-root "$DIR/data" \
      --exec-root "$DIR/exec" \
      -H "unix://$SOCK" \
      --pidfile "$PIDFILE" \
      >"$LOG" 2>&1 </dev/null 9>&- &
  fi
  for _ in $(seq 1 300); do
    if answers; then return 0; fi
    sleep 0.1
  done
  echo "dockerd did not answer at $SOCK within 30 s; its log ($LOG) ends with:" >&2
  tail -n 20 "$LOG" >&2 || true
  exit 1
}

case "${1:-start}" in
  stop)
    stop_engine
    ;;
  start)
    mkdir -p "$DIR"
    # Test files and CI may run this at the same time: one of them starts the engine, the others wait.
    exec 9>"$DIR/start.lock"
    flock 9
    if ! answers; then
      command -v dockerd >/dev/null 2>&1 || install_engine
      command -v docker >/dev/null 2>&1 || install_engine
      start_engine
    fi
    echo "$SOCK"
    ;;
  *)
    echo "usage: $0 [start|stop]" >&2
    exit 2
    ;;
esac
