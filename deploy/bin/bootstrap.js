#!/usr/bin/env node
// One-shot credentials for the compose cluster, run as root before anything
// else starts (the compose service "bootstrap"). Idempotent: what exists is
// kept, so restarts and `up` after `down` (volumes kept) reuse the same CA
// and tokens, and kubeconfigs handed out earlier stay valid.
//
//   <pki-dir>/ca.crt, ca.key    cluster CA; the API server issues its serving
//                               certificate from it on start (SANs include
//                               127.0.0.1 and "kubernetes", the name the
//                               components dial)
//   <pki-dir>/tokens.csv        --token-auth-file of the API server
//   <auth-dir>/*.kubeconfig     one per component identity, server https://kubernetes:6443
//   <admin-kubeconfig>          the admin's, server https://127.0.0.1:<published port>
//   <encryption-config>         the API server's --encryption-provider-config:
//                               an aescbc key for Secrets, then identity; made
//                               once and never replaced (etcd's Secrets need it)
//
// It reuses the API server's own certificate, token-file and kubeconfig code,
// and the launcher's EncryptionConfiguration writer.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Command } = require('commander');
const { createCertificateAuthority, formatTokenFile, generateToken, parseTokenFile, renderKubeconfig, MASTERS_GROUP, NODES_GROUP } = require('@kube-lite/apiserver/dist/auth');
const { ensureEncryptionConfig } = require('@kube-lite/kube-lite/dist/cluster/encryption');

const program = new Command('bootstrap')
  .requiredOption('--pki-dir <dir>', 'the API server\'s --cert-dir (CA and token file)')
  .requiredOption('--auth-dir <dir>', 'where component kubeconfigs go')
  .requiredOption('--workers <names>', 'comma-separated node names, one kubelet identity each')
  .option('--server <url>', 'API server URL inside the cluster network', 'https://kubernetes:6443')
  .option('--admin-kubeconfig <file>', 'where the admin kubeconfig goes (a bind-mounted host directory)')
  .option('--admin-server <url>', 'API server URL as the host reaches it', 'https://127.0.0.1:6443')
  .option('--owner <uid:gid>', 'owner of the files the non-root components read', '1000:1000')
  .option('--encryption-config <file>', 'where the API server\'s EncryptionConfiguration goes (created once, kept afterwards)')
  .parse();
const options = program.opts();
const [uid, gid] = options.owner.split(':').map(Number);

/** Owner-only file, replaced atomically so a reader never sees half of it. */
function writePrivate(file, text, owner) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temporary, text, { mode: 0o600 });
  if (owner) fs.chownSync(temporary, owner.uid, owner.gid);
  fs.renameSync(temporary, file);
}

const component = { uid, gid };
fs.mkdirSync(options.pkiDir, { recursive: true });
fs.mkdirSync(options.authDir, { recursive: true });
fs.chownSync(options.pkiDir, uid, gid);
fs.chownSync(options.authDir, uid, gid);

const caCertificateFile = path.join(options.pkiDir, 'ca.crt');
const caKeyFile = path.join(options.pkiDir, 'ca.key');
if (!fs.existsSync(caCertificateFile) || !fs.existsSync(caKeyFile)) {
  const ca = createCertificateAuthority('kube-lite-ca');
  writePrivate(caKeyFile, ca.privateKeyPem, component);
  writePrivate(caCertificateFile, ca.certificatePem, component);
  fs.chmodSync(caCertificateFile, 0o644);
  console.log(`bootstrap: created the cluster CA in ${options.pkiDir}`);
}
const caPem = fs.readFileSync(caCertificateFile, 'utf8');

const workers = options.workers.split(',').map((name) => name.trim()).filter(Boolean);
const identities = [
  { user: 'admin', groups: [MASTERS_GROUP] },
  { user: 'system:kube-scheduler', groups: [], kubeconfig: 'kube-scheduler.kubeconfig' },
  { user: 'system:kube-controller-manager', groups: [], kubeconfig: 'kube-controller-manager.kubeconfig' },
  { user: 'system:kube-proxy', groups: [], kubeconfig: 'kube-proxy.kubeconfig' },
  ...workers.map((name) => ({ user: `system:node:${name}`, groups: [NODES_GROUP], kubeconfig: `kubelet-${name}.kubeconfig` })),
];

const tokenFile = path.join(options.pkiDir, 'tokens.csv');
const entries = fs.existsSync(tokenFile) ? parseTokenFile(fs.readFileSync(tokenFile, 'utf8'), tokenFile) : [];
let added = 0;
for (const identity of identities) {
  if (entries.some((entry) => entry.user.name === identity.user)) continue;
  entries.push({ token: generateToken(), user: { name: identity.user, uid: identity.user, groups: identity.groups } });
  added += 1;
}
if (added > 0 || !fs.existsSync(tokenFile)) writePrivate(tokenFile, formatTokenFile(entries), component);
const tokenOf = (user) => entries.find((entry) => entry.user.name === user).token;

for (const identity of identities) {
  if (!identity.kubeconfig) continue;
  writePrivate(path.join(options.authDir, identity.kubeconfig), renderKubeconfig({ server: options.server, caPem, user: identity.user, token: tokenOf(identity.user) }), component);
}
if (options.adminKubeconfig) {
  // Owned like the directory it lands in: the host user who ran compose can read it.
  const directory = fs.statSync(path.dirname(options.adminKubeconfig));
  writePrivate(options.adminKubeconfig, renderKubeconfig({ server: options.adminServer, caPem, user: 'admin', token: tokenOf('admin') }), { uid: directory.uid, gid: directory.gid });
}
console.log(`bootstrap: ${identities.length} identities (${added} new), kubeconfigs in ${options.authDir}${options.adminKubeconfig ? `, admin kubeconfig ${options.adminKubeconfig} -> ${options.adminServer}` : ''}`);
if (options.encryptionConfig) {
  const created = ensureEncryptionConfig(options.encryptionConfig);
  // Owner-only, and the owner is the API server's user.
  fs.chownSync(options.encryptionConfig, uid, gid);
  fs.chmodSync(options.encryptionConfig, 0o600);
  console.log(`bootstrap: encryption at rest ${created ? 'configured with a new key' : 'keeps its key'} in ${options.encryptionConfig}`);
}
