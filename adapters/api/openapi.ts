// The OpenAPI 3.1 description of every route (served at GET /openapi.json). test/api checks that it
// lists exactly the routes the router has, so a new route cannot go undocumented.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json): Json => ({ 'application/json': { schema } });
const ok = (description: string, schema: Json): Json => ({ description, content: json(schema) });
const error = (description: string): Json => ({ description, content: json(ref('Error')) });
const body = (schema: Json): Json => ({ required: true, content: json(schema) });
const pathParam = (name: string, description: string): Json => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string' },
});
const queryParam = (name: string, description: string, schema: Json): Json => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});

const E400 = error('Bad JSON, or a field is missing or of the wrong type (the message and `field` name it)');
const E401 = error('api.token is set and the request has no valid `Authorization: Bearer <token>`');
const E404 = error('Unknown id');
const E413 = error('The body (or the tx it makes) is over the size limit');
const E503 = error('The TxPool is full (`pool_full`) or a component did not answer (`unavailable`)');

const SUBMIT_ERRORS: Record<string, Json> = {
  '400': E400,
  '401': E401,
  '409': error('The TxPool has this tx already (`duplicate`)'),
  '413': E413,
  '503': E503,
};

const schemas: Record<string, Json> = {
  Error: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', examples: ['bad_json', 'bad_request', 'not_found', 'pool_full'] },
          message: { type: 'string' },
          field: { type: 'string', description: 'The request field at fault, when there is one' },
        },
      },
    },
  },
  Peer: {
    type: 'object',
    required: ['id', 'address', 'outbound'],
    properties: {
      id: { type: 'string', description: 'Node ID' },
      address: { type: 'string', description: 'host:port of its gRPC gateway' },
      outbound: { type: 'boolean' },
    },
  },
  Status: {
    type: 'object',
    required: ['nodeId', 'networkId', 'role', 'leader', 'term', 'height', 'lastSeal', 'peers'],
    properties: {
      nodeId: { type: 'string' },
      networkId: { type: 'string' },
      role: { enum: ['leader', 'follower', 'electing'] },
      leader: { type: ['string', 'null'] },
      term: { type: 'integer' },
      height: { type: 'integer' },
      lastSeal: { type: ['string', 'null'] },
      peers: { type: 'array', items: ref('Peer') },
      round: { type: ['object', 'null'], description: 'Addition: the PBFT round in progress' },
      poolSize: { type: ['integer', 'null'], description: 'Addition: txs in the TxPool' },
      sync: {
        type: ['object', 'null'],
        description: 'Addition: {height, targetHeight, blocksPerSec, etaSec}',
      },
    },
  },
  Transaction: {
    type: 'object',
    required: ['id', 'kind', 'icodeId', 'function', 'args', 'timestamp', 'signer', 'nonce', 'signature'],
    properties: {
      id: { type: 'string' },
      kind: { enum: ['invoke', 'deploy', 'undeploy', 'membership'] },
      icodeId: { type: 'string' },
      function: { type: 'string' },
      args: { type: 'array' },
      timestamp: { type: 'integer' },
      signer: { type: 'string' },
      nonce: { type: 'string' },
      signature: { type: 'string' },
    },
  },
  Block: {
    type: 'object',
    required: ['height', 'prevSeal', 'txRoot', 'stateRoot', 'timestamp', 'creator', 'seal', 'txs'],
    properties: {
      height: { type: 'integer' },
      prevSeal: { type: 'string' },
      txRoot: { type: 'string' },
      stateRoot: { type: 'string' },
      timestamp: { type: 'integer' },
      creator: { type: 'string' },
      seal: { type: 'string' },
      txs: { type: 'array', items: ref('Transaction') },
    },
  },
  Call: {
    type: 'object',
    required: ['icodeId', 'function'],
    additionalProperties: false,
    properties: {
      icodeId: { type: 'string' },
      function: { type: 'string' },
      args: {
        type: 'array',
        description: 'JSON values: strings, safe integers, booleans, null, arrays, objects',
      },
    },
  },
  TxStatus: {
    type: 'object',
    required: ['id', 'status'],
    properties: {
      id: { type: 'string' },
      status: { enum: ['pending', 'committed', 'rejected'] },
      height: { type: 'integer' },
      result: { description: "The iCode function's result (its receipt)" },
      error: {
        type: 'object',
        properties: { code: { type: 'string' }, message: { type: 'string' } },
        description: "Why it was rejected, or the iCode's error",
      },
    },
  },
  Icode: {
    type: 'object',
    required: ['id', 'gitUrl', 'commit', 'txId', 'height'],
    properties: {
      id: { type: 'string' },
      gitUrl: { type: 'string' },
      commit: { type: 'string' },
      txId: { type: 'string' },
      height: { type: 'integer' },
      builtin: { type: 'boolean' },
    },
  },
};

const paths: Record<string, Record<string, Json>> = {
  '/status': {
    get: { summary: 'The node as the API sees it', responses: { '200': ok('Status', ref('Status')) } },
  },
  '/blocks': {
    get: {
      summary: 'Committed blocks in height order',
      parameters: [
        queryParam('from', 'First height (default: the newest `limit` blocks)', {
          type: 'integer',
          minimum: 0,
        }),
        queryParam('limit', 'How many (default 20, at most 1000)', {
          type: 'integer',
          minimum: 1,
          maximum: 1000,
        }),
      ],
      responses: { '200': ok('Blocks', { type: 'array', items: ref('Block') }), '400': E400 },
    },
  },
  '/blocks/latest': {
    get: {
      summary: 'The last committed block',
      responses: { '200': ok('Block', ref('Block')), '404': error('No block yet') },
    },
  },
  '/blocks/{heightOrSeal}': {
    get: {
      summary: 'A block by height or seal',
      parameters: [pathParam('heightOrSeal', 'A height or a 64-character hex seal')],
      responses: { '200': ok('Block', ref('Block')), '400': E400, '404': E404 },
    },
  },
  '/transactions': {
    post: {
      summary: 'Submit an invoke tx; the node signs it as the accepting node',
      requestBody: body(ref('Call')),
      responses: {
        '202': ok('Admitted to the TxPool (or no verdict within 2 s: pending)', {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string' } },
        }),
        ...SUBMIT_ERRORS,
      },
    },
  },
  '/transactions/batch': {
    post: {
      summary: 'Addition: submit up to 1000 invoke txs at once (for load generators)',
      requestBody: body({
        type: 'object',
        required: ['txs'],
        properties: { txs: { type: 'array', items: ref('Call'), maxItems: 1000 } },
      }),
      responses: {
        '202': ok('Ids in request order; `rejected` lists the txs the TxPool refused', {
          type: 'object',
          required: ['ids'],
          properties: {
            ids: { type: 'array', items: { type: 'string' } },
            rejected: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  index: { type: 'integer' },
                  id: { type: 'string' },
                  code: { type: 'string' },
                  message: { type: 'string' },
                },
              },
            },
          },
        }),
        ...SUBMIT_ERRORS,
      },
    },
  },
  '/transactions/{id}': {
    get: {
      summary: "A tx's status",
      parameters: [pathParam('id', 'Transaction ID')],
      responses: { '200': ok('Status', ref('TxStatus')), '404': E404 },
    },
  },
  '/icodes': {
    get: {
      summary: 'Deployed iCodes (with the built-in kv)',
      responses: { '200': ok('iCodes', { type: 'array', items: ref('Icode') }) },
    },
    post: {
      summary: 'Deploy an iCode from a git URL or local path (a deploy tx)',
      requestBody: body({
        type: 'object',
        required: ['gitUrl'],
        additionalProperties: false,
        properties: {
          gitUrl: { type: 'string' },
          sshKey: { type: 'string', description: 'Private key (PEM) for ssh URLs' },
        },
      }),
      responses: {
        '202': ok('The deploy tx is in the TxPool', {
          type: 'object',
          required: ['id', 'txId'],
          properties: { id: { type: 'string' }, txId: { type: 'string' } },
        }),
        ...SUBMIT_ERRORS,
        '404': error('No repository there (`repo_not_found`)'),
        '408': error('Cloning took too long'),
        '409': error('This commit is deployed already, or the tx is a duplicate'),
        '422': error('The repository is there but its code cannot be used'),
        '501': error('This API process has no deployer'),
      },
    },
  },
  '/icodes/{id}': {
    get: {
      summary: 'One iCode',
      parameters: [pathParam('id', 'iCode ID')],
      responses: { '200': ok('iCode', ref('Icode')), '404': E404 },
    },
    delete: {
      summary: 'Undeploy an iCode (an undeploy tx)',
      parameters: [pathParam('id', 'iCode ID')],
      responses: {
        '202': ok('The undeploy tx is in the TxPool', {
          type: 'object',
          properties: { id: { type: 'string' }, txId: { type: 'string' } },
        }),
        ...SUBMIT_ERRORS,
        '404': E404,
      },
    },
  },
  '/icodes/{id}/query': {
    post: {
      summary: 'Run a read-only function against committed state (no token needed: it changes nothing)',
      parameters: [pathParam('id', 'iCode ID')],
      requestBody: body({
        type: 'object',
        required: ['function'],
        additionalProperties: false,
        properties: { function: { type: 'string' }, args: { type: 'array' } },
      }),
      responses: {
        '200': ok('Result', { type: 'object', required: ['result'], properties: { result: {} } }),
        '400': E400,
        '404': error('Unknown iCode or function'),
        '422': error('The function failed (its error code: icode_error, out_of_gas, ...)'),
        '503': E503,
      },
    },
  },
  '/peers': {
    get: {
      summary: 'Connected peers',
      responses: { '200': ok('Peers', { type: 'array', items: ref('Peer') }) },
    },
    post: {
      summary: 'Dial (connect) or join (connect, sync, be admitted) a peer',
      requestBody: body({
        type: 'object',
        required: ['type', 'address'],
        additionalProperties: false,
        properties: {
          type: { enum: ['dial', 'join'] },
          address: { type: 'string', description: 'host:port or nodeId@host:port' },
        },
      }),
      responses: {
        '202': ok('Connected (join goes on in the background)', { type: 'object' }),
        '400': E400,
        '401': E401,
        '502': error('The peer is unreachable or refused us'),
        '503': E503,
      },
    },
  },
  '/peers/{id}': {
    delete: {
      summary: 'Disconnect a peer',
      parameters: [pathParam('id', 'Node ID')],
      responses: { '200': ok('Disconnected', { type: 'object' }), '400': E400, '401': E401, '404': E404 },
    },
  },
  '/metrics': {
    get: {
      summary: 'Prometheus metrics (text exposition 0.0.4)',
      responses: {
        '200': { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
      },
    },
  },
  '/events': {
    get: {
      summary: 'Server-sent events: status (on connect), block, leader, tx; comment heartbeats',
      parameters: [queryParam('kinds', 'Comma-separated subset of block,leader,tx', { type: 'string' })],
      responses: {
        '200': {
          description: 'Event stream',
          content: { 'text/event-stream': { schema: { type: 'string' } } },
        },
      },
    },
  },
  '/openapi.json': {
    get: { summary: 'This document', responses: { '200': ok('OpenAPI 3.1', { type: 'object' }) } },
  },
};

// POST and DELETE need the bearer token when api.token is set (a query is read-only: no token).
for (const [path, methods] of Object.entries(paths)) {
  for (const [method, operation] of Object.entries(methods)) {
    if ((method === 'post' || method === 'delete') && !path.endsWith('/query')) {
      methods[method] = { ...(operation as Record<string, Json>), security: [{}, { bearer: [] }] };
    }
  }
}

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'it-chain node API',
    version: '0.1.0',
    description:
      'REST API of one it-chain node (SPEC §6). Errors are {"error":{"code","message"}}. When api.token is ' +
      'set, POST and DELETE calls (except iCode queries) need `Authorization: Bearer <token>`.',
  },
  paths,
  components: {
    schemas,
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
  },
} as const;

/** Every (METHOD, path) the document describes, with Koa-style `:params`: for the route check. */
export function documentedRoutes(): string[] {
  return Object.entries(paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
  );
}
