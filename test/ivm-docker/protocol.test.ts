import { describe, expect, it } from 'vitest';
import { FrameDecoder, LineDecoder } from '../../adapters/icode/docker/protocol.ts';

// The host reads the runner through Docker's multiplexed attach stream: frames cut anywhere, lines
// cut anywhere, UTF-8 characters cut anywhere. None of that may change a message.

function frame(type: 1 | 2, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('reading the runner', () => {
  it('a message cut across frames, chunks and a UTF-8 character reads as one line; stderr stays apart', () => {
    const lines: string[] = [];
    const errors: string[] = [];
    const decoder = new LineDecoder((line) => lines.push(line));
    const frames = new FrameDecoder(
      (b) => decoder.push(b),
      (b) => errors.push(b.toString()),
    );
    const text = Buffer.from('{"t":"get","k":{"s":"café ✓ 𝄞"}}\n{"t":"ready"}\n');
    const stream = Buffer.concat([
      frame(1, text.subarray(0, 33)), // cuts "𝄞" (bytes 31-34) in two
      frame(2, Buffer.from('warning\n')),
      frame(1, text.subarray(33)),
    ]);
    for (let i = 0; i < stream.length; i += 5) frames.push(stream.subarray(i, i + 5));
    expect(lines).toEqual(['{"t":"get","k":{"s":"café ✓ 𝄞"}}', '{"t":"ready"}']);
    expect(errors.join('')).toBe('warning\n');
  });

  it('a line longer than the cap is refused once, and nothing after it is decoded', () => {
    const lines: string[] = [];
    let overflows = 0;
    const decoder = new LineDecoder(
      (line) => lines.push(line),
      () => overflows++,
      16,
    );
    decoder.push(Buffer.from('short\n'));
    decoder.push(Buffer.from('x'.repeat(10)));
    decoder.push(Buffer.from('x'.repeat(10)));
    decoder.push(Buffer.from('\nnext\n'));
    expect(lines).toEqual(['short']);
    expect(overflows).toBe(1);
  });
});
