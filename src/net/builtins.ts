// node:http, node:https and node:http2 through require(), not import. An ES import of a builtin reads every one of
// its exports to build the module namespace, and node:http's include lazy getters (WebSocket, MessageEvent, ...)
// that load Node's bundled undici: 13 MiB of RSS in a process that never uses them. Types may still be imported
// from the modules themselves (`import type` is erased).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const http = require('node:http') as typeof import('node:http');
export const https = require('node:https') as typeof import('node:https');
export const http2 = require('node:http2') as typeof import('node:http2');
