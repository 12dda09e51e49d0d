#!/usr/bin/env node
// The kubectl plugin: kubectl runs `kubectl-weft` for `kubectl weft ...` (npm installs it beside `weft`).
import { runCli } from './index.js';

process.exitCode = await runCli(process.argv.slice(2));
