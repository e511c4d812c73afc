import { type ApiGateway, startApiGateway } from '../../adapters/api/api-gateway.ts';
import { forwardConsensusEvents } from '../../adapters/live-view/consensus-source.ts';
import { liveViewRoutes } from '../../adapters/live-view/live-view-routes.ts';
import { gitIcodeDeployer } from '../icode-deployer.ts';
import type { NodeBase } from '../node-parts.ts';
import type { Component } from './component.ts';
import { type ConsensusActorsCatch, testnetNodes } from './live-view-wiring.ts';

// The API gateway component (adapters/api): REST, read model, SSE, metrics. It talks to the rest of
// the node only through the bus, so it runs in the node's process on the memory bus or alone
// (`itchain start --only api`) on RabbitMQ. In the node's process it also serves the live view
// (GET /), fed by the replica's machines. POST /icodes clones and bundles in this process
// (icode-deployer.ts), so a split API process (`--only api`) can deploy too.

export const API_GATEWAY_ID = 'apiGateway';

export interface ApiParts extends NodeBase {
  /** The replica's actors, when the consensus runs in this process (for the live view). */
  consensusActors?: ConsensusActorsCatch;
}

export class ApiGatewayComponent implements Component {
  private gateway: ApiGateway | null = null;

  constructor(private readonly parts: ApiParts) {}

  async start(): Promise<void> {
    const { config, nodeId, networkId, signer, bus, logger, consensusActors } = this.parts;
    const log = logger.child({ component: 'api' });
    const live = consensusActors?.source(nodeId);
    const self = { nodeId, apiUrl: `http://${config.api.host}:${config.api.port}` };
    let nodes: ReturnType<typeof testnetNodes> | undefined;
    this.gateway = await startApiGateway({
      config,
      nodeId,
      networkId,
      signer,
      bus,
      logger: log,
      deployer: gitIcodeDeployer(),
      routers: live
        ? [
            liveViewRoutes({
              consensus: live,
              networkNodes: () => (nodes ??= testnetNodes(config.node.home, self)),
            }),
          ]
        : [],
      eventSources: live ? { consensus: (write) => forwardConsensusEvents(live, write) } : {},
    });
  }

  get url(): string | undefined {
    return this.gateway?.url;
  }

  async stop(): Promise<void> {
    await this.gateway?.close();
  }
}
