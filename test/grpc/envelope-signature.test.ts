import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type EnvelopeFields, signEnvelope, verifyEnvelope } from '../../adapters/grpc/envelope-signature.ts';
import { generateIdentity, signerOf } from '../../domain/identity.ts';

// Envelopes are signed by the sender's node key over sender, receiver, position and every message.

const sender = generateIdentity();
const signer = signerOf(sender);
const receiver = generateIdentity().nodeId;

function message(type: string, payload: string, requestId = 0, replyTo = 0) {
  return { type, payload: Buffer.from(payload), requestId, replyTo };
}

const envelope: EnvelopeFields = {
  from: sender.nodeId,
  to: receiver,
  seq: 7,
  messages: [message('block.propose', '{"height":3}'), message('sync.blocks', '{"from":1}', 12, 0)],
};

describe('envelope signature', () => {
  it('verifies with the sender public key over the same fields', () => {
    const signature = signEnvelope(signer, envelope);
    expect(signature).toHaveLength(64);
    expect(verifyEnvelope(sender.publicKey, envelope, signature)).toBe(true);
  });

  const tampered: [string, EnvelopeFields][] = [
    ['another sender', { ...envelope, from: receiver }],
    ['another receiver (no replay to a third node)', { ...envelope, to: sender.nodeId }],
    ['another seq (no replay later on the stream)', { ...envelope, seq: 8 }],
    [
      'a changed payload',
      { ...envelope, messages: [message('block.propose', '{"height":4}'), envelope.messages[1]!] },
    ],
    [
      'a changed type',
      { ...envelope, messages: [message('block.consent', '{"height":3}'), envelope.messages[1]!] },
    ],
    [
      'a changed request id',
      { ...envelope, messages: [envelope.messages[0]!, message('sync.blocks', '{"from":1}', 13, 0)] },
    ],
    [
      'a request turned into a reply',
      { ...envelope, messages: [envelope.messages[0]!, message('sync.blocks', '{"from":1}', 0, 12)] },
    ],
    ['reordered messages', { ...envelope, messages: [envelope.messages[1]!, envelope.messages[0]!] }],
    ['a dropped message', { ...envelope, messages: [envelope.messages[0]!] }],
  ];
  it.each(tampered)('fails for %s', (_what, changed) => {
    expect(verifyEnvelope(sender.publicKey, changed, signEnvelope(signer, envelope))).toBe(false);
  });

  it('fails with another node key, and for a signature that is not 64 bytes', () => {
    const signature = signEnvelope(signer, envelope);
    expect(verifyEnvelope(generateIdentity().publicKey, envelope, signature)).toBe(false);
    expect(verifyEnvelope(sender.publicKey, envelope, signature.subarray(0, 63))).toBe(false);
  });

  it('moving bytes across a message boundary changes what is signed (fields are length-prefixed)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 2 }), fc.nat(), (text, at) => {
        const cut = 1 + (at % (text.length - 1));
        const split = (left: number): EnvelopeFields => ({
          ...envelope,
          messages: [message('t', text.slice(0, left)), message('t', text.slice(left))],
        });
        const moved = cut === text.length - 1 ? cut - 1 : cut + 1;
        if (moved < 0 || Buffer.from(text.slice(0, cut)).equals(Buffer.from(text.slice(0, moved)))) return;
        expect(verifyEnvelope(sender.publicKey, split(moved), signEnvelope(signer, split(cut)))).toBe(false);
      }),
      { numRuns: 50 },
    );
  });
});
