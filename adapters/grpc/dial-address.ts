import { parsePeerAddress } from '../../config/peer-address.ts';
import type { NodeId } from '../../domain/identity.ts';

// What `dial` and `join` take: `nodeId@host:port` (the peer's certificate must then carry that node ID)
// or `host:port` (the node ID is learned from the certificate).

export interface DialTarget {
  readonly nodeId?: NodeId;
  readonly host: string;
  readonly port: number;
}

const HOST_PORT = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

export function parseDialAddress(text: string): DialTarget | null {
  if (text.includes('@')) return parsePeerAddress(text);
  const match = HOST_PORT.exec(text);
  if (!match) return null;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return null;
  const host = match[1]!.startsWith('[') ? match[1]!.slice(1, -1) : match[1]!;
  return { host, port };
}

/** `host:port`, with an IPv6 host in brackets: what grpc-js and the handshake's listen address take. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Splits `host:port` (IPv6 hosts bracketed); null when it is not one. */
export function splitHostPort(text: string): { host: string; port: number } | null {
  const target = parseDialAddress(text);
  return target && target.nodeId === undefined ? { host: target.host, port: target.port } : null;
}

const UNSPECIFIED_HOSTS = new Set(['', '0.0.0.0', '::', '[::]']);

/**
 * Where to redial a peer that connected to us: the listen address from its handshake, except that an
 * unspecified host (it listens on all interfaces) is replaced by the host the connection came from.
 */
export function redialAddress(listenAddress: string, remoteSocket: string): string | null {
  const listen = splitHostPort(listenAddress);
  if (!listen) return null;
  if (!UNSPECIFIED_HOSTS.has(listen.host)) return hostPort(listen.host, listen.port);
  const remote = splitHostPort(remoteSocket);
  if (!remote) return null;
  const host = remote.host.startsWith('::ffff:') ? remote.host.slice(7) : remote.host;
  return hostPort(host, listen.port);
}
