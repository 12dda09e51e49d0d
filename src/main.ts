#!/usr/bin/env node
// `weft <command>`: the operator today; the agent and other tools join as subcommands.
import { parseArgs } from 'node:util';
import { AGENT_USAGE, runAgentCommand } from './agent/command.js';
import { CA_FLAGS, CA_USAGE, caOptionsFromFlags } from './ca/flags.js';
import { OPERATOR_NAME, OPERATOR_NAMESPACE } from './install/names.js';
import { runOperator } from './operator.js';
import { XDS_FLAGS, XDS_USAGE, xdsOptionsFromFlags } from './xds/flags.js';
import { INJECT_FLAGS, INJECT_USAGE, injectOptionsFromFlags } from './inject/flags.js';
import { CAPTURE_USAGE, runCaptureCommand } from './inject/capture-command.js';
import { cliVerbs, runCli } from './cli/index.js';

const usage = `usage: weft <command> [flags]

commands:
  operator   run the Weft operator (reconcilers, status, events)
    --kubeconfig <path>       cluster to use (default: KUBECONFIG, ~/.kube/config, in-cluster)
    --metrics-port <port>     /metrics, /healthz and /readyz (default 8080; 0 picks a free port)
    --leader-elect            elect a leader on a Lease so only one replica writes (default off)
    --lease-namespace <ns>    namespace of the leader-election Lease (default: POD_NAMESPACE or weft-system)
    --identity <id>           this replica's name in the Lease (default: POD_NAME or hostname_uuid)
${CA_USAGE}${XDS_USAGE}${INJECT_USAGE}${AGENT_USAGE}${CAPTURE_USAGE}
  ${cliVerbs().join(', ') || '(no CLI verbs)'}
             the mesh CLI, also \`kubectl weft <verb>\` (weft <verb> --help)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // The CLI's verbs (proxy-status, analyze, ...), the same as `kubectl weft <verb>`.
  if (command !== undefined && cliVerbs().includes(command)) return runCli(argv, 'weft');
  switch (command) {
    case 'operator': {
      if (rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write(usage);
        return 0;
      }
      const { values } = parseArgs({
        args: rest,
        options: {
          kubeconfig: { type: 'string' },
          'metrics-port': { type: 'string', default: '8080' },
          'leader-elect': { type: 'boolean', default: false },
          'lease-namespace': { type: 'string' },
          identity: { type: 'string' },
          ...CA_FLAGS,
          ...XDS_FLAGS,
          ...INJECT_FLAGS,
        },
        strict: true,
      });
      const metricsPort = Number(values['metrics-port']);
      if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535) {
        throw new Error(`--metrics-port: expected a port number, got ${values['metrics-port']}`);
      }
      await runOperator({
        kubeconfigPath: values.kubeconfig,
        metricsPort,
        leaderElect: values['leader-elect'],
        leaseNamespace: values['lease-namespace'] ?? process.env.POD_NAMESPACE,
        identity: values.identity ?? process.env.POD_NAME,
        ca: caOptionsFromFlags(values, values['lease-namespace'] ?? process.env.POD_NAMESPACE ?? OPERATOR_NAMESPACE, OPERATOR_NAME),
        xds: xdsOptionsFromFlags(values),
        inject: injectOptionsFromFlags(values),
      });
      return 0;
    }
    case 'agent':
      await runAgentCommand(rest);
      return 0;
    case 'capture':
      return runCaptureCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(usage);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`weft: unknown command ${JSON.stringify(command)}\n\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`weft: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
