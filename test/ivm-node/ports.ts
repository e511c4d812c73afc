// API base ports of the test/ivm-node files (node i: API base+i, gRPC base+1000+i). vitest runs two
// files at once, so each file has its own range inside 21000-21300 (test/support/network.ts's PORTS
// lists the e2e files').

export const IVM_NODE_PORTS = {
  /** icode-network.test.ts */
  quickjs: 21000,
  /** tutorial.test.ts: `itchain up --base-port` */
  tutorial: 21100,
  /** docker-network.test.ts */
  docker: 21200,
} as const;
