// Writing credentials where gRPC's file_watcher certificate provider reads them, so that a reader never sees a
// certificate from one issuance and a key from another. Like Kubernetes' atomic volume writer: each issuance
// goes into a fresh directory, a symlink `..data` is switched to it with one rename (atomic), and the stable file
// names are symlinks through `..data`:
//
//   cert-chain.pem -> ..data/cert-chain.pem      ..data -> ..2026_11_25_14_00_00.123_ab12
//   key.pem        -> ..data/key.pem
//   root-cert.pem  -> ..data/root-cert.pem
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const CERT_CHAIN_FILE = 'cert-chain.pem';
export const KEY_FILE = 'key.pem';
export const ROOT_CERT_FILE = 'root-cert.pem';
const DATA_LINK = '..data';

export interface Credentials {
  certChainPem: string;
  keyPem: string;
  rootsPem: string;
}

export async function writeCredentials(dir: string, credentials: Credentials): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const stamp = new Date().toISOString().replace(/[-:T]/g, '_').replace('Z', '');
  const version = `..${stamp}_${randomBytes(2).toString('hex')}`;
  const versionDir = join(dir, version);
  await mkdir(versionDir, { mode: 0o755 });
  // The key is readable by the owner only; it never leaves this directory (and is never logged).
  await writeFile(join(versionDir, KEY_FILE), credentials.keyPem, { mode: 0o600 });
  await writeFile(join(versionDir, CERT_CHAIN_FILE), credentials.certChainPem, { mode: 0o644 });
  await writeFile(join(versionDir, ROOT_CERT_FILE), credentials.rootsPem, { mode: 0o644 });

  const previous = await readlink(join(dir, DATA_LINK)).catch(() => undefined);
  const tmpLink = join(dir, `..data_tmp_${randomBytes(4).toString('hex')}`);
  await symlink(version, tmpLink);
  await rename(tmpLink, join(dir, DATA_LINK)); // the switch: readers see the old set or the new set, never a mix

  for (const file of [CERT_CHAIN_FILE, KEY_FILE, ROOT_CERT_FILE]) {
    const target = join(DATA_LINK, file);
    if ((await readlink(join(dir, file)).catch(() => undefined)) === target) continue;
    const tmp = join(dir, `.${file}.tmp_${randomBytes(4).toString('hex')}`);
    await symlink(target, tmp);
    await rename(tmp, join(dir, file));
  }
  // Older versions: keep the one just replaced (a reader may have opened it a moment ago), remove the rest.
  for (const entry of await readdir(dir)) {
    if (entry.startsWith('..') && entry !== DATA_LINK && entry !== version && entry !== previous) {
      await rm(join(dir, entry), { recursive: true, force: true });
    }
  }
}

/** Writes one file atomically: a temporary file in the same directory, then rename over the target. */
export async function writeFileAtomic(path: string, content: string, mode = 0o644): Promise<void> {
  const tmp = `${path}.tmp_${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, content, { mode });
  await rename(tmp, path);
}
