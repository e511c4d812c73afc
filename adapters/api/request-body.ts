import type { Context } from 'koa';
import { ApiError } from './api-error.ts';

// Reads a JSON request body with a byte limit, without a body-parser dependency: the hot path (tx
// submits, thousands a second) pays for one Buffer.concat and one JSON.parse, nothing more. A body
// over the limit is refused by its Content-Length before a byte is read, or as soon as it grows past
// the limit; the rest is drained so the connection stays usable.

export async function readJsonBody(ctx: Context, limit: number): Promise<unknown> {
  const declared = Number(ctx.get('content-length'));
  if (declared > limit) {
    ctx.req.resume();
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) over = true;
    if (!over) chunks.push(chunk);
  }
  if (over) throw tooLarge(limit);
  const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '')
    throw new ApiError(400, 'bad_json', 'the request body is empty: send a JSON object');
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ApiError(400, 'bad_json', `the request body is not JSON (${reason})`);
  }
}

function tooLarge(limit: number): ApiError {
  return new ApiError(413, 'payload_too_large', `the request body is over the limit of ${limit} bytes`);
}
