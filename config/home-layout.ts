// The files of a node home and of a CA directory, as `itchain testnet` and `itchain init` write them.
// The config defaults point at these names, so a home works with an empty config file.

export const HOME_FILES = {
  config: 'config.yaml',
  privateKey: 'node.key',
  certificate: 'node.crt',
  caCertificate: 'ca.crt',
  genesis: 'genesis.json',
  storage: 'data',
} as const;

/** The CA directory's name inside a testnet directory (and inside the home of a one-node network). */
export const CA_DIRECTORY = 'ca';

export const CA_FILES = {
  privateKey: 'ca.key',
  certificate: 'ca.crt',
} as const;
