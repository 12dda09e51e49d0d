#!/usr/bin/env node
// `weft <command>`: the operator, the agent, the capture init step and the CLI's verbs. Each command's modules are
// imported when that command runs, so a process carries only its own: the operator not the CLI (~25 MiB of RSS),
// and an agent (one beside every workload) not the operator (~55 MiB).
import { parseArgs } from 'node:util';

async function usage(): Promise<string> {
  const [{ CA_USAGE }, { XDS_USAGE }, { INJECT_USAGE }, { AGENT_USAGE }, { CAPTURE_USAGE }, { cliVerbs }] = await Promise.all([
    import('./ca/flags.js'),
    import('./xds/flags.js'),
    import('./inject/flags.js'),
    import('./agent/command.js'),
    import('./inject/capture-command.js'),
    import('./cli/index.js'),
  ]);
  return `usage: weft <command> [flags]

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
}

async function runOperatorCommand(rest: string[]): Promise<number> {
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(await usage());
    return 0;
  }
  const [{ CA_FLAGS, caOptionsFromFlags }, { XDS_FLAGS, xdsOptionsFromFlags }, { INJECT_FLAGS, injectOptionsFromFlags }, { OPERATOR_NAME, OPERATOR_NAMESPACE }, { runOperator }] =
    await Promise.all([import('./ca/flags.js'), import('./xds/flags.js'), import('./inject/flags.js'), import('./install/names.js'), import('./operator.js')]);
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

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'operator':
      return runOperatorCommand(rest);
    case 'agent': {
      const { runAgentCommand } = await import('./agent/command.js');
      await runAgentCommand(rest);
      return 0;
    }
    case 'capture': {
      const { runCaptureCommand } = await import('./inject/capture-command.js');
      return runCaptureCommand(rest);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(await usage());
      return command === undefined ? 2 : 0;
    default: {
      // The CLI's verbs (proxy-status, analyze, ...), the same as `kubectl weft <verb>`.
      const { cliVerbs, runCli } = await import('./cli/index.js');
      if (cliVerbs().includes(command)) return runCli(argv, 'weft');
      process.stderr.write(`weft: unknown command ${JSON.stringify(command)}\n\n${await usage()}`);
      return 2;
    }
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
