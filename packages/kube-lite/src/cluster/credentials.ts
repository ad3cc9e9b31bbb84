// Who each component is to the API server. One static token per identity,
// kept in the --token-auth-file format (token,user,uid,"group1,group2") and
// generated once per data dir, so restarts keep working kubeconfigs; plus a
// kubeconfig per identity with the cluster CA inline. Kubeconfigs are written
// as JSON, which is YAML too: kubectl and the components' YAML readers take it.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ClusterLayout } from './layout';

export interface Identity {
  /** The user name the API server authorizes: `system:node:worker-1`. */
  user: string;
  groups: string[];
  /** Where its kubeconfig goes. */
  kubeconfig: string;
}

export interface TokenRecord {
  token: string;
  user: string;
  uid: string;
  groups: string[];
}

/** The API server's user names and groups (packages/apiserver/src/auth: user.ts and policy.ts). */
export const MASTERS_GROUP = 'system:masters';
export const NODES_GROUP = 'system:nodes';

export function clusterIdentities(layout: ClusterLayout): Identity[] {
  return [
    { user: 'admin', groups: [MASTERS_GROUP], kubeconfig: layout.files.adminKubeconfig },
    { user: 'system:kube-scheduler', groups: [], kubeconfig: layout.files.schedulerKubeconfig },
    { user: 'system:kube-controller-manager', groups: [], kubeconfig: layout.files.controllerManagerKubeconfig },
    { user: 'system:kube-proxy', groups: [], kubeconfig: layout.files.proxyKubeconfig },
    ...layout.workers.map((worker) => ({ ...nodeIdentity(worker.name), kubeconfig: worker.kubeconfig })),
  ];
}

function quote(value: string): string {
  return /[",\s]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function formatTokenFile(records: readonly TokenRecord[]): string {
  return records.map((r) => [r.token, r.user, r.uid, r.groups.join(',')].map(quote).join(',') + '\n').join('');
}

/** Reads the file this module writes (the groups column may be quoted; the others never contain commas). */
export function parseTokenFile(text: string): TokenRecord[] {
  const records: TokenRecord[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const match = /^([^,]*),([^,]*),([^,]*)(?:,(.*))?$/.exec(line);
    if (match === null) continue;
    const groupsField = (match[4] ?? '').trim().replace(/^"(.*)"$/, '$1').replace(/""/g, '"');
    records.push({
      token: (match[1] as string).trim(),
      user: (match[2] as string).trim(),
      uid: (match[3] as string).trim(),
      groups: groupsField.split(',').map((g) => g.trim()).filter((g) => g !== ''),
    });
  }
  return records;
}

/** The kubelet identity of a node that may join later. */
export function nodeIdentity(nodeName: string): Pick<Identity, 'user' | 'groups'> {
  return { user: `system:node:${nodeName}`, groups: [NODES_GROUP] };
}

/**
 * Makes sure every identity of the layout has a token in the token file,
 * keeping the tokens already there (so earlier kubeconfigs stay valid) and
 * adding the missing ones (after `up --workers` grew). `reservedNodeNames`
 * get kubelet tokens too: the API server reads the file only when it starts,
 * so a node `add-node` brings in later must already be in it. Returns all
 * records.
 */
export function ensureTokenFile(
  layout: ClusterLayout,
  generateToken: () => string = () => randomBytes(32).toString('base64url'),
  reservedNodeNames: readonly string[] = [],
): TokenRecord[] {
  const file = layout.files.tokenFile;
  const existing = fs.existsSync(file) ? parseTokenFile(fs.readFileSync(file, 'utf8')) : [];
  const records = [...existing];
  let changed = false;
  for (const identity of [...clusterIdentities(layout), ...reservedNodeNames.map(nodeIdentity)]) {
    if (records.some((record) => record.user === identity.user)) continue;
    records.push({ token: generateToken(), user: identity.user, uid: identity.user, groups: identity.groups });
    changed = true;
  }
  if (changed || !fs.existsSync(file)) writePrivateFile(file, formatTokenFile(records));
  return records;
}

export interface KubeconfigContent {
  server: string;
  caPem: string;
  user: string;
  token: string;
}

/** The kubeconfig document (clusters, users, one current context), as kubectl expects it. */
export function renderKubeconfig(content: KubeconfigContent): string {
  const cluster = 'kube-lite';
  const context = `${content.user}@${cluster}`;
  return (
    JSON.stringify(
      {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: cluster, cluster: { server: content.server, 'certificate-authority-data': Buffer.from(content.caPem).toString('base64') } }],
        users: [{ name: content.user, user: { token: content.token } }],
        contexts: [{ name: context, context: { cluster, user: content.user, namespace: 'default' } }],
        'current-context': context,
        preferences: {},
      },
      null,
      2,
    ) + '\n'
  );
}

/** Writes a kubeconfig for every identity; needs the CA, which the API server creates on its first start. */
export function writeKubeconfigs(layout: ClusterLayout, tokens: readonly TokenRecord[], caPem: string): void {
  for (const identity of clusterIdentities(layout)) {
    const record = tokens.find((t) => t.user === identity.user);
    if (record === undefined) throw new Error(`bug: no token for ${identity.user}; ensureTokenFile must run first`);
    writePrivateFile(identity.kubeconfig, renderKubeconfig({ server: layout.apiserver.url, caPem, user: identity.user, token: record.token }));
  }
}

export function adminToken(tokens: readonly TokenRecord[]): string | undefined {
  return tokens.find((record) => record.groups.includes(MASTERS_GROUP))?.token;
}

/** Credentials: owner-only, replaced atomically so a component never reads half a file. */
function writePrivateFile(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temporary, text, { mode: 0o600 });
  fs.renameSync(temporary, file);
}
