// ml-serving: the sample REST app kube-lite's docs and tests deploy.
// It pretends to serve a model: every request gets a JSON answer naming the
// pod that served it, so a client can see load balancing and pod identity.
// Listens on $POD_IP (all addresses when unset) and $PORT (default 80).
'use strict';
const http = require('node:http');
const os = require('node:os');

const host = process.env.POD_IP || '0.0.0.0';
const port = Number(process.env.PORT || 80);
const startedAt = new Date().toISOString();
let served = 0;

function identity() {
  return {
    pod: process.env.POD_NAME || os.hostname(),
    namespace: process.env.POD_NAMESPACE || '',
    podIP: process.env.POD_IP || '',
    hostname: os.hostname(),
    model: process.env.MODEL_NAME || 'demo-sentiment',
    version: process.env.MODEL_VERSION || '1.0',
  };
}

// A toy "model": scores text by counting words from two small lists.
const POSITIVE = new Set(['good', 'great', 'love', 'excellent', 'happy', 'fast']);
const NEGATIVE = new Set(['bad', 'awful', 'hate', 'terrible', 'sad', 'slow']);
function predict(text) {
  let score = 0;
  for (const word of String(text).toLowerCase().split(/\W+/)) {
    if (POSITIVE.has(word)) score += 1;
    if (NEGATIVE.has(word)) score -= 1;
  }
  return { label: score > 0 ? 'positive' : score < 0 ? 'negative' : 'neutral', score };
}

const server = http.createServer((request, response) => {
  const chunks = [];
  let size = 0;
  request.on('data', (chunk) => {
    size += chunk.length;
    if (size <= 64 * 1024) chunks.push(chunk);
  });
  request.on('end', () => {
    served += 1;
    const url = new URL(request.url || '/', 'http://localhost');
    const body = { ...identity(), method: request.method, path: url.pathname, requestsServed: served, startedAt };
    if (url.pathname === '/predict') {
      let text = url.searchParams.get('text') || '';
      try {
        if (chunks.length > 0) text = JSON.parse(Buffer.concat(chunks).toString('utf8')).text || text;
      } catch {
        response.writeHead(400, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ ...body, error: 'body must be JSON like {"text": "..."}' }) + '\n');
        return;
      }
      body.prediction = predict(text);
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body) + '\n');
  });
});

server.listen(port, host, () => {
  console.log(`ml-serving listening on ${host}:${port} as ${identity().pod}`);
});

function shutdown(signal) {
  console.log(`ml-serving received ${signal}, closing`);
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
