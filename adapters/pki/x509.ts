// @peculiar/x509 needs reflect-metadata loaded before it and a WebCrypto provider; Node's own is used so
// certificates are made with the same Ed25519 implementation that verifies them. Import x509 from here.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

export { x509 };
