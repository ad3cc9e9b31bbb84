// ml-serving: the sample REST app kube-lite's docs and tests deploy.
// It pretends to serve a model: every request gets a JSON answer naming the
// pod that served it and the model version, so a client can see load
// balancing, pod identity and a rolling update in progress.
// Listens on $POD_IP (all addresses when unset) and $PORT (default 80).
//
// Identity as Kubernetes gives it to a container: $HOSTNAME is the pod's name
// (the kubelet sets it; os.hostname() would be the machine's under the
// process runtime), $POD_NAMESPACE only when the pod spec passes it through
// the downward API. The version is $MODEL_VERSION, else what the image baked
// in (--model-version=X in its entrypoint), else 1.0.
'use strict';
const http = require('node:http');
const os = require('node:os');

function imageVersion() {
  const flag = process.argv.slice(2).find((argument) => argument.startsWith('--model-version='));
  return flag === undefined ? undefined : flag.slice('--model-version='.length);
}

const host = process.env.POD_IP || '0.0.0.0';
const port = Number(process.env.PORT || 80);
const version = process.env.MODEL_VERSION || imageVersion() || '1.0';
const startedAt = new Date().toISOString();
let served = 0;

function identity() {
  const hostname = process.env.HOSTNAME || os.hostname();
  return {
    pod: process.env.POD_NAME || hostname,
    namespace: process.env.POD_NAMESPACE || '',
    podIP: process.env.POD_IP || '',
    hostname,
    model: process.env.MODEL_NAME || 'demo-sentiment',
    version,
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
  console.log(`ml-serving ${version} listening on ${host}:${port} as ${identity().pod}`);
});

function shutdown(signal) {
  console.log(`ml-serving received ${signal}, closing`);
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
