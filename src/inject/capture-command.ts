// `weft capture`: the injected sidecar's init container. Loads capture.ts's rules with iptables-restore into the
// pod's network namespace (it runs as root with NET_ADMIN, once, before the app starts); --dry-run prints them.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { captureRules } from './capture.js';

export const CAPTURE_USAGE = `  weft capture [--proxy-uid 1337] [--exclude-inbound-ports 15021,15000,15010] [--dry-run]
    redirect the pod's TCP traffic to its Envoy sidecar (iptables, nat table); the injected init container
`;

function ports(flag: string, value: string): number[] {
  if (value === '') return [];
  return value.split(',').map((p) => {
    const n = Number(p.trim());
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`--${flag}: "${p}" is not a port number`);
    return n;
  });
}

export function runCaptureCommand(args: string[]): number {
  const { values } = parseArgs({
    args,
    options: {
      'proxy-uid': { type: 'string', default: '1337' },
      'exclude-inbound-ports': { type: 'string', default: '' },
      'exclude-outbound-ports': { type: 'string', default: '' },
      'dry-run': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const uid = Number(values['proxy-uid']);
  if (!Number.isInteger(uid) || uid < 0) throw new Error(`--proxy-uid: expected a uid, got ${values['proxy-uid']}`);
  const rules = captureRules({
    proxyUid: uid,
    excludeInboundPorts: ports('exclude-inbound-ports', values['exclude-inbound-ports']!),
    excludeOutboundPorts: ports('exclude-outbound-ports', values['exclude-outbound-ports']!),
  });
  if (values['dry-run']) {
    process.stdout.write(rules);
    return 0;
  }
  const result = spawnSync('iptables-restore', ['--noflush'], { input: rules, encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    process.stderr.write(`weft capture: iptables-restore failed: ${result.error?.message ?? result.stderr}\nrules:\n${rules}`);
    return 1;
  }
  process.stdout.write(`weft capture: TCP traffic redirected to the sidecar (outbound 15001, inbound 15006; proxy uid ${uid})\n`);
  return 0;
}
