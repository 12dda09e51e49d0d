// A bearer token kept in a file that something else rewrites: the kubelet's projected ServiceAccount token (renewed
// well before it expires, by swapping a symlink) or a kubeconfig's token-file. Reading the file on every request
// would cost a syscall per request; client-node re-reads every 60 s. This checks the file's identity (inode, mtime,
// size) at most every few seconds and reads it again only when that changed.
import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';

export const TOKEN_CHECK_INTERVAL_MS = 5_000;

export class TokenFile {
  private token: string;
  private version: string;
  private checkedAt: number;

  /** Reads the file now, so a missing token fails at start-up rather than on the first request. */
  constructor(
    readonly path: string,
    private readonly checkEveryMs = TOKEN_CHECK_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.version = versionOf(statSync(path));
    this.token = readFileSync(path, 'utf8').trim();
    this.checkedAt = this.now();
  }

  async read(): Promise<string> {
    if (this.now() - this.checkedAt < this.checkEveryMs) return this.token;
    this.checkedAt = this.now();
    try {
      const version = versionOf(await stat(this.path));
      if (version !== this.version) {
        // Version first: if the file changes again between stat and read, the next check reads it once more.
        this.version = version;
        this.token = (await readFile(this.path, 'utf8')).trim();
      }
    } catch {
      // Mid-rotation or briefly unreadable: the token read last is still the best guess; look again next time.
    }
    return this.token;
  }
}

const versionOf = (s: { ino: number; mtimeMs: number; size: number }): string => `${s.ino}:${s.mtimeMs}:${s.size}`;
