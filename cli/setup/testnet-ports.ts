// Ports of a testnet: node i listens for the API on basePort + i and for peers on basePort + 1000 + i,
// so by default API 4000+i and gRPC 5000+i.

export const DEFAULT_BASE_PORT = 4000;
export const GRPC_PORT_OFFSET = 1000;
export const MAX_TESTNET_NODES = 64;

/** The highest --base-port that keeps every gRPC port of an n-node testnet at or below 65535. */
export function maxBasePort(nodes: number): number {
  return 65535 - GRPC_PORT_OFFSET - (nodes - 1);
}
