// A small HTTP client for the node's REST API (SPEC §6) used by the client commands. Every failure
// becomes a ClientError with a one-line reason: the API's own error message, or why the API could not
// be reached.

export class ClientError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

export interface ApiResponse {
  status: number;
  /** The body exactly as the API sent it. */
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: unknown;
}

const NETWORK_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'the connection closed unexpectedly',
};

export class ApiClient {
  private readonly base: string;

  constructor(
    base: string,
    private readonly token?: string,
    private readonly timeoutMs = 30_000,
  ) {
    this.base = base.replace(/\/+$/, '');
  }

  get url(): string {
    return this.base;
  }

  /** Sends the request; a 4xx/5xx answer throws a ClientError with the API's message. */
  async call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<ApiResponse> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw new ClientError(`cannot reach ${this.base}: ${networkReason(error, this.timeoutMs)}`);
    }
    const json = parseJson(text);
    if (response.status >= 400) {
      const apiError = errorOf(json);
      throw new ClientError(
        apiError?.message ?? `the API answered ${response.status} ${response.statusText}`,
        response.status,
        apiError?.code,
      );
    }
    return { status: response.status, text, json };
  }

  get(path: string): Promise<ApiResponse> {
    return this.call('GET', path);
  }

  post(path: string, body: unknown): Promise<ApiResponse> {
    return this.call('POST', path, body);
  }

  delete(path: string): Promise<ApiResponse> {
    return this.call('DELETE', path);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorOf(json: unknown): { code?: string; message: string } | undefined {
  if (typeof json !== 'object' || json === null || !('error' in json)) return undefined;
  const error = json.error;
  if (typeof error !== 'object' || error === null || !('message' in error)) return undefined;
  const message = String(error.message);
  return 'code' in error ? { code: String(error.code), message } : { message };
}

function networkReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${timeoutMs / 1000} s`;
  }
  const cause = error instanceof Error ? error.cause : undefined;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : '';
  if (NETWORK_REASONS[code]) return NETWORK_REASONS[code];
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
