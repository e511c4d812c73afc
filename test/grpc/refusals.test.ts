import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PeerDialError } from '../../adapters/grpc/peer-admission.ts';
import type { PeerGateway } from '../../adapters/grpc/peer-gateway.ts';
import { genesisBlock } from '../../domain/genesis.ts';
import type { Signer } from '../../domain/identity.ts';
import {
  addressOf,
  eventually,
  type GrpcTestnet,
  gatewayFor,
  makeTestnet,
  type RecordingLogger,
  signerFor,
} from './support/testnet.ts';

// SPEC §2: a node whose certificate is not signed by the CA pinned in genesis, or whose genesis seal
// differs, is refused with a logged reason. Envelopes must carry the sender's signature.

let net: GrpcTestnet;
let otherNet: GrpcTestnet;
const running: PeerGateway[] = [];

beforeAll(async () => {
  [net, otherNet] = await Promise.all([makeTestnet(3), makeTestnet(1, 'someone-elses-net')]);
});

afterAll(async () => {
  await Promise.all([net.remove(), otherNet.remove()]);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((gateway) => gateway.stop()));
});

async function start<T extends { gateway: PeerGateway }>(made: T): Promise<T> {
  running.push(made.gateway);
  await made.gateway.start({ port: 0 });
  return made;
}

async function dialError(gateway: PeerGateway, address: string): Promise<PeerDialError> {
  try {
    await gateway.dial(address);
  } catch (error) {
    expect(error).toBeInstanceOf(PeerDialError);
    return error as PeerDialError;
  }
  throw new Error(`expected the dial to ${address} to fail`);
}

function refusals(logger: RecordingLogger) {
  return logger.find('warn', 'peer refused').map((entry) => entry.fields);
}

describe('refused peers', () => {
  it('a peer with a certificate from another CA is refused, and the answering node logs why (wrong-ca)', async () => {
    const a = await start(gatewayFor(net, 0));
    const foreign = await start(gatewayFor(otherNet, 0));
    const error = await dialError(foreign.gateway, addressOf(a.gateway));
    expect(error.reason).toBe('refused-by-peer');
    expect(error.message).toContain('wrong-ca');
    expect(refusals(a.logger)).toEqual([
      expect.objectContaining({
        side: 'inbound',
        reason: 'wrong-ca',
        detail: expect.stringContaining('not signed by the network CA'),
      }),
    ]);
    expect(a.gateway.peers()).toEqual([]);
    expect(foreign.gateway.peers()).toEqual([]);

    // The other way round the foreign node's server refuses, for the same reason.
    const back = await dialError(a.gateway, addressOf(foreign.gateway));
    expect(back.reason).toBe('refused-by-peer');
    expect(refusals(foreign.logger)).toEqual([
      expect.objectContaining({ side: 'inbound', reason: 'wrong-ca' }),
    ]);
  });

  it('a peer with the right CA but another genesis is refused, and the answering node logs why (genesis-mismatch)', async () => {
    const a = await start(gatewayFor(net, 0));
    const otherGenesis = genesisBlock({
      ...net.testnet.genesis,
      timestamp: net.testnet.genesis.timestamp + 1,
    });
    const forked = await start(gatewayFor(net, 1, { genesisSeal: otherGenesis.seal }));
    const error = await dialError(forked.gateway, addressOf(a.gateway));
    expect(error.reason).toBe('refused-by-peer');
    expect(error.message).toContain('genesis-mismatch');
    expect(refusals(a.logger)).toEqual([
      expect.objectContaining({
        side: 'inbound',
        peer: forked.gateway.nodeId,
        reason: 'genesis-mismatch',
        detail: expect.stringContaining(otherGenesis.seal),
      }),
    ]);
    expect(a.gateway.peers()).toEqual([]);
  });

  it('a peer on another network ID is refused with network-mismatch', async () => {
    const a = await start(gatewayFor(net, 0));
    const elsewhere = await start(gatewayFor(net, 1, { networkId: 'not-this-one' }));
    await dialError(elsewhere.gateway, addressOf(a.gateway));
    expect(refusals(a.logger)).toEqual([expect.objectContaining({ reason: 'network-mismatch' })]);
  });

  it('a dial to nodeId@host:port where another node answers is refused by the dialler (unexpected-node)', async () => {
    const a = await start(gatewayFor(net, 0));
    const b = await start(gatewayFor(net, 1));
    const { host, port } = b.gateway.address!;
    const c = net.credentials[2]!.nodeId;
    const error = await dialError(a.gateway, `${c}@${host}:${port}`);
    expect(error.reason).toBe('unexpected-node');
    expect(refusals(a.logger)).toEqual([
      expect.objectContaining({ side: 'outbound', reason: 'unexpected-node' }),
    ]);
    await eventually(() => b.gateway.peers().length === 0, 'b to drop the refused stream');
  });

  it('an envelope with a bad signature is dropped and logged; the stream stays up (fault injected: corrupting signer)', async () => {
    const a = await start(gatewayFor(net, 0));
    const honest = signerFor(net.credentials[1]!);
    let corrupt = true;
    // Signs other bytes than asked while `corrupt` is set: a valid Ed25519 signature, over the wrong message.
    const faulty: Signer = {
      nodeId: honest.nodeId,
      sign: (bytes) => honest.sign(corrupt ? Buffer.from('forged') : bytes),
    };
    const b = await start(gatewayFor(net, 1, { signer: faulty }));
    await b.gateway.dial(addressOf(a.gateway));
    await eventually(() => a.gateway.peers().length === 1, 'a to see b');
    const received: string[] = [];
    a.gateway.onMessage((_from, type) => received.push(type));

    b.gateway.send(a.gateway.nodeId, 'test.forged', {});
    await eventually(() => a.logger.find('warn', 'envelope dropped').length === 1, 'the drop to be logged');
    expect(a.logger.find('warn', 'envelope dropped')[0]!.fields).toMatchObject({
      peer: b.gateway.nodeId,
      reason: 'bad-signature',
      messages: 1,
    });
    corrupt = false;
    b.gateway.send(a.gateway.nodeId, 'test.honest', {});
    await eventually(() => received.length === 1, 'the honest message');
    expect(received).toEqual(['test.honest']);
    expect(a.gateway.stats()[0]).toMatchObject({ envelopesReceived: 1, envelopesRejected: 1 });
  });
});
