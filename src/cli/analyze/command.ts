// `kubectl weft analyze`: what is wrong with this mesh configuration, before (-f files) or after (the cluster) it is
// applied, like `istioctl analyze`. Exits 1 when a problem at --failure-threshold (Error by default) or worse is found.
import { Command, Option } from 'commander';
import { connect } from '../connect.js';
import { setExitStatus, type GlobalOptions } from '../index.js';
import { render, table, type OutputFormat } from '../output.js';
import { analyze } from './analyze.js';
import { parseSeverity, reachesThreshold, SEVERITIES, type Diagnostic } from './diagnostics.js';
import { expandPaths, readCluster, readFiles } from './objects.js';

interface AnalyzeOptions {
  filename?: string[];
  allNamespaces?: boolean;
  failureThreshold: string;
  outputThreshold: string;
}

export function objectName(d: Diagnostic): string {
  return `${d.kind} ${d.namespace ? `${d.namespace}/` : ''}${d.name}`;
}

export function diagnosticsTable(diagnostics: Diagnostic[], scope: string): string {
  if (diagnostics.length === 0) return `✔ No problems found in ${scope}.\n`;
  return table(
    ['code', 'severity', 'object', 'field', 'message'],
    diagnostics.map((d) => [d.code, d.severity, objectName(d) + (d.origin ? ` (${d.origin})` : ''), d.field ?? '-', d.message]),
  );
}

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('find problems in mesh configuration: in YAML files (-f, offline) or in the cluster')
    .addOption(new Option('-f, --filename <paths...>', 'YAML files or directories to analyze offline (multi-document; Weft kinds plus Namespaces, Services, ServiceAccounts, Pods, Deployments for context)'))
    .addOption(new Option('-A, --all-namespaces', 'report problems in every namespace (live)'))
    .addOption(new Option('--failure-threshold <severity>', `exit 1 when a problem of this severity or worse is found (${SEVERITIES.join(', ')})`).default('Error'))
    .addOption(new Option('--output-threshold <severity>', `print problems of this severity or worse (${SEVERITIES.join(', ')})`).default('Info'))
    .action(async (options: AnalyzeOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions & AnalyzeOptions>();
      const failAt = parseSeverity(options.failureThreshold, '--failure-threshold');
      const printAt = parseSeverity(options.outputThreshold, '--output-threshold');
      let diagnostics: Diagnostic[];
      let scope: string;
      if (options.filename && options.filename.length > 0) {
        const files = expandPaths(options.filename);
        diagnostics = analyze(readFiles(files, globals.namespace ?? 'default'));
        scope = `${files.length} file(s)`;
      } else {
        const cluster = connect(globals);
        try {
          diagnostics = analyze(await readCluster(cluster.client));
        } finally {
          await cluster.client.close();
        }
        if (!options.allNamespaces) diagnostics = diagnostics.filter((d) => d.namespace === undefined || d.namespace === cluster.namespace);
        scope = options.allNamespaces ? 'all namespaces' : `namespace ${cluster.namespace}`;
      }
      const shown = diagnostics.filter((d) => reachesThreshold([d], printAt));
      process.stdout.write(render(globals.output as OutputFormat, shown, (rows) => diagnosticsTable(rows, scope)));
      setExitStatus(command, reachesThreshold(diagnostics, failAt) ? 1 : 0);
    });
}
