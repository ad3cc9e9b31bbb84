#!/usr/bin/env node
// Makes `npm test` and `npm start` work on a fresh clone: installs the
// dependencies when node_modules is missing or older than the lock file, then
// runs the incremental TypeScript build (fast when nothing changed).
'use strict';
const { execSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const run = (command) => execSync(command, { cwd: root, stdio: 'inherit' });
const modifiedMs = (file) => (fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0);

const installedMarker = path.join(root, 'node_modules', '.package-lock.json');
if (modifiedMs(installedMarker) < modifiedMs(path.join(root, 'package-lock.json'))) {
  console.log('[setup] installing dependencies (npm ci)...');
  run('npm ci --no-audit --no-fund');
}
console.log('[setup] building (tsc -b)...');
run('npx tsc -b');
