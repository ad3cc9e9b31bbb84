#!/usr/bin/env node
// `node scripts/start.js [kube-lite up options]`: build if needed, then run
// `kube-lite up` in the foreground with the given options (e.g. --workers 2).
// Ctrl-C reaches kube-lite, which stops the cluster cleanly.
'use strict';
const { spawn } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
require('./ensure-built.js');
const launcher = spawn(process.execPath, [path.join(root, 'packages', 'kube-lite', 'dist', 'cli.js'), 'up', ...process.argv.slice(2)], {
  cwd: process.cwd(),
  stdio: 'inherit',
});
// Ctrl-C reaches both processes from the terminal: forwarding it would count
// as a second Ctrl-C (kill everything), so this wrapper only waits. A SIGTERM
// is meant for the wrapper alone and is passed on.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => launcher.kill('SIGTERM'));
launcher.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? os.constants.signals[signal] : 0)));
