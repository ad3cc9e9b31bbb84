// Encryption at rest: the API server's --encryption-provider-config, in
// upstream's EncryptionConfiguration format. Generated once per data dir and
// never replaced, because the Secrets already in etcd can only be read with
// the key they were written with. Secrets are written with aescbc (the first
// provider); identity, second, still reads anything stored in plain text
// before encryption was turned on.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** AES-256: aescbc takes 16, 24 or 32 byte keys; 32 is what upstream's docs generate. */
export const ENCRYPTION_KEY_BYTES = 32;
/** The resources written encrypted. */
export const ENCRYPTED_RESOURCES: readonly string[] = ['secrets'];
const KEY_NAME = 'key1';

/** The file's text for one aescbc key (base64), followed by identity. */
export function renderEncryptionConfig(keyBase64: string): string {
  return [
    '# kube-apiserver --encryption-provider-config, generated once by kube-lite.',
    '# Keep it with the data dir: the Secrets in etcd cannot be read without this key.',
    'apiVersion: apiserver.config.k8s.io/v1',
    'kind: EncryptionConfiguration',
    'resources:',
    '  - resources:',
    ...ENCRYPTED_RESOURCES.map((resource) => `      - ${resource}`),
    '    providers:',
    '      - aescbc:',
    '          keys:',
    `            - name: ${KEY_NAME}`,
    `              secret: ${keyBase64}`,
    '      - identity: {}',
    '',
  ].join('\n');
}

/**
 * Writes the EncryptionConfiguration at `file` (owner-only) unless it exists;
 * returns whether it was created. An existing file is kept as it is, also
 * when edited by hand (a rotated key, more resources).
 */
export function ensureEncryptionConfig(file: string, generateKey: () => Buffer = () => randomBytes(ENCRYPTION_KEY_BYTES)): boolean {
  if (fs.existsSync(file)) return false;
  const key = generateKey();
  if (key.length !== ENCRYPTION_KEY_BYTES) throw new Error(`bug: an aescbc key must be ${ENCRYPTION_KEY_BYTES} bytes, got ${key.length}`);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temporary, renderEncryptionConfig(key.toString('base64')), { mode: 0o600 });
  try {
    // link, unlike rename, never replaces a file another `up` wrote meanwhile: the first key wins.
    fs.linkSync(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}
