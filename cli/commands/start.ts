import { type Command, Option } from 'commander';
import { integerOption } from '../option-checks.ts';

// `itchain start --home D [--only core|api] [--inspect]`: runs one node until SIGINT or SIGTERM,
// then stops it cleanly (API, consensus, queued writes, gRPC, bus, store) and exits 0. A node that
// cannot start, or stops on its own because a component failed, exits 1 with the reason on one line.

interface StartFlags {
  home: string;
  only?: 'core' | 'api';
  inspect?: boolean;
  inspectPort: string;
  inspectUrl?: string;
  logFormat?: 'json' | 'pretty';
}

/** After the node has stopped, handles nobody owns (a keep-alive socket) must not keep the process up. */
const EXIT_GRACE_MS = 2_000;

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run one node from its home until Ctrl-C (SIGINT) or SIGTERM, which stop it cleanly')
    .requiredOption('--home <dir>', 'the node home (config.yaml, keys, genesis, data)')
    .addOption(
      new Option(
        '--only <part>',
        'run only the core (no REST API) or only the API gateway; the two talk over bus.url (amqp://…)',
      ).choices(['core', 'api']),
    )
    .option('--inspect', 'stream the actor system to the Stately inspector (prints where to open it)')
    .option('--inspect-port <port>', 'port of the local inspector bridge', '8080')
    .addOption(new Option('--inspect-url <ws-url>', 'send inspection to this WebSocket bridge').hideHelp())
    .addOption(
      new Option(
        '--log-format <format>',
        'log lines as JSON or pretty (default: pretty on a terminal)',
      ).choices(['json', 'pretty']),
    )
    .action(async (flags: StartFlags) => {
      const inspectPort = integerOption('--inspect-port', flags.inspectPort, 1, 65535);
      const { startNode } = await import('../../actors/node.ts');
      const { nodeConfig } = await import('../../actors/node-boot.ts');
      const inspecting =
        flags.inspect === true || flags.inspectUrl !== undefined || nodeConfig(flags.home).inspect;
      const { openInspector } = await import('../../actors/inspector.ts');
      const inspector = inspecting
        ? await openInspector({ wsUrl: flags.inspectUrl, port: inspectPort })
        : null;

      let node: Awaited<ReturnType<typeof startNode>>;
      try {
        node = await startNode({
          home: flags.home,
          role: flags.only ?? 'full',
          logFormat: flags.logFormat,
          inspect: inspector?.observer,
        });
      } catch (error) {
        inspector?.close();
        throw error;
      }
      if (inspector?.pageUrl) {
        node.logger.info({ url: inspector.pageUrl }, `inspector: open ${inspector.pageUrl} in a browser`);
      } else if (inspector) {
        node.logger.info(
          { url: inspector.wsUrl },
          `inspector: streaming to the bridge at ${inspector.wsUrl}`,
        );
      }
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        if (signals > 1) {
          node.logger.warn({ signal }, 'second signal: exiting without a clean stop');
          process.exit(1);
        }
        node.logger.info({ signal }, 'stopping');
        void node.stop();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const exit = await node.exited;
      inspector?.close();
      setTimeout(() => process.exit(process.exitCode ?? 0), EXIT_GRACE_MS).unref();
      if (exit.failure !== null) throw new Error(`the node stopped: ${exit.failure}`);
      node.logger.info({}, 'stopped');
    });
}
