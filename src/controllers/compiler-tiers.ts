// V8's mid-tier optimizing compiler (Maglev) off for the operator. Maglev compiles many more functions than
// TurboFan alone, on V8's worker threads, and glibc keeps what those compilations freed in each worker's malloc
// arena: at 1000 services, at rest, the thread arenas held 14-23 MiB with Maglev and 12 MiB without it
// (docs/benchmarks.md, Memory). Hot code still reaches TurboFan. It is a V8 flag that NODE_OPTIONS may not carry,
// so it is set here, before the operator's modules load; `node --maglev` keeps Maglev on.
import { setFlagsFromString } from 'node:v8';

export function turnOffMaglev(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.includes('--maglev')) return false;
  setFlagsFromString('--no-maglev');
  return true;
}
