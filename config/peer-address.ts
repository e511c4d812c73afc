import type { NodeId } from '../domain/identity.ts';

/** A peer to dial, written `nodeId@host:port` in config; the node ID is checked against the peer's certificate. */
export interface PeerAddress {
  readonly nodeId: NodeId;
  readonly host: string;
  readonly port: number;
}

// host is a DNS name, an IPv4 address or a bracketed IPv6 address.
const PEER_ADDRESS = /^([0-9a-f]{40})@([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

/** Parses `nodeId@host:port`; returns null when the text is not one. */
export function parsePeerAddress(text: string): PeerAddress | null {
  const match = PEER_ADDRESS.exec(text);
  if (!match) return null;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return null;
  const host = match[2]!.startsWith('[') ? match[2]!.slice(1, -1) : match[2]!;
  return { nodeId: match[1]!, host, port };
}

export function formatPeerAddress(peer: PeerAddress): string {
  const host = peer.host.includes(':') ? `[${peer.host}]` : peer.host;
  return `${peer.nodeId}@${host}:${peer.port}`;
}
