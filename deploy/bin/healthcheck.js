#!/usr/bin/env node
// Container healthcheck: every argument must answer within 3 s.
//   http://host:port/path    2xx
//   https://host:port/path   2xx, verified against --ca FILE (the cluster CA)
//   tcp://host:port          accepts a connection
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');

const TIMEOUT_MS = 3000;
const argv = process.argv.slice(2);
let ca;
const targets = [];
for (let i = 0; i < argv.length; i += 1) {
  if (argv[i] === '--ca') ca = fs.readFileSync(argv[++i]);
  else targets.push(argv[i]);
}

function check(target) {
  return new Promise((resolve, reject) => {
    const url = new URL(target);
    if (url.protocol === 'tcp:') {
      const socket = net.connect({ host: url.hostname, port: Number(url.port), timeout: TIMEOUT_MS }, () => {
        socket.destroy();
        resolve();
      });
      socket.on('timeout', () => socket.destroy(new Error('timeout')));
      socket.on('error', reject);
      return;
    }
    const client = url.protocol === 'https:' ? https : http;
    const request = client.get(url, { timeout: TIMEOUT_MS, ...(ca ? { ca } : {}) }, (response) => {
      response.resume();
      if (response.statusCode >= 200 && response.statusCode < 300) resolve();
      else reject(new Error(`HTTP ${response.statusCode}`));
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
  });
}

Promise.all(targets.map((target) => check(target).catch((error) => Promise.reject(new Error(`${target}: ${error.message}`))))).then(
  () => process.exit(0),
  (error) => {
    console.error(`unhealthy: ${error.message}`);
    process.exit(1);
  },
);
