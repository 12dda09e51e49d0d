// `kubectl weft <verb>` (and `weft <verb>`): the CLI a mesh user reaches for to ask whether a change reached the
// proxies, what a proxy holds, and what is wrong with their YAML. Built on commander; each verb is one module that
// registers itself here. Verbs read the cluster through the API server only (no port-forward).
import { Command, Option } from 'commander';
import { configDumpVerb } from './config-dump.js';
import { describeVerb } from './describe.js';
import { OUTPUT_FORMATS } from './output.js';
import { registerAnalyze } from './analyze/command.js';
import { registerCheck } from './check/command.js';
import { proxyStatusVerb } from './proxy-status.js';

/** Options every verb takes (kubectl's names). */
export interface GlobalOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  output: string;
}

/** A verb: adds its command (name, arguments, options, action) to the program. */
export type Verb = (program: Command) => void;

/** The verbs, in the order `--help` lists them. */
const VERBS: Verb[] = [proxyStatusVerb, configDumpVerb, describeVerb, registerAnalyze, registerCheck];

const exitStatuses = new WeakMap<Command, number>();

/** What the CLI exits with when this verb's action returns (e.g. `analyze` found problems: 1). */
export function setExitStatus(command: Command, status: number): void {
  let root = command;
  while (root.parent) root = root.parent;
  exitStatuses.set(root, status);
}

/** The verbs' names: `weft <verb>` hands these to the CLI. */
export function cliVerbs(): string[] {
  return buildProgram().commands.map((c) => c.name());
}

export function buildProgram(name = 'kubectl weft'): Command {
  const program = new Command(name)
    .description('Weft service mesh: is my change on the proxies, what do they hold, what is wrong with my config')
    .addOption(new Option('--kubeconfig <path>', 'kubeconfig file (default: KUBECONFIG, ~/.kube/config, in-cluster)'))
    .addOption(new Option('--context <name>', 'kubeconfig context to use'))
    .addOption(new Option('-n, --namespace <ns>', 'namespace (default: the context\'s, else default)'))
    .addOption(new Option('-o, --output <format>', 'output format').choices([...OUTPUT_FORMATS]).default('table'))
    .showHelpAfterError()
    .exitOverride();
  for (const verb of VERBS) verb(program);
  return program;
}

/** Runs the CLI on `argv` (without node and the script); resolves with the exit status. */
export async function runCli(argv: string[], name?: string): Promise<number> {
  const program = buildProgram(name);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitStatuses.get(program) ?? 0;
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string };
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) return e.exitCode ?? 1;
    process.stderr.write(`error: ${e.message ?? String(err)}\n`);
    return 1;
  }
}
