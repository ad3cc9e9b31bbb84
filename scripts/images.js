#!/usr/bin/env node
// `npm run images`: builds every Docker image the compose cluster runs.
//
//   1. the workspace (scripts/ensure-built.js), unless --no-build;
//   2. the base image deploy/Dockerfile names in ARG BASE_IMAGE
//      (node:20-bookworm-slim): used as is when present, pulled when a
//      registry answers, else built here from the host's own Node.js (the
//      node binary, the shared libraries `ldd` lists and a static busybox for
//      /bin/sh and friends) and `docker import`ed under the same name, so the
//      Dockerfile finds it locally. --offline skips the pull attempt;
//   3. kube-lite/pause:1.0 (pod sandboxes), ml-serving:1.0 and ml-serving:2.0
//      (the lecture's app) and kube-lite:dev (every component).
//
// The build context is a trimmed tar of the repository (see contextPaths) fed
// to `docker build -`, so no .dockerignore is needed and nothing but the
// production dependencies is sent.
'use strict';
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dockerfile = 'deploy/Dockerfile';

const USAGE = `usage: npm run images -- [--offline] [--no-build] [--base-only] [--tag TAG]
  --offline     never try to pull the base image; build the local stand-in when it is absent
  --no-build    do not run the TypeScript build first (dist/ must be current)
  --base-only   stop after the base image
  --tag TAG     tag of the component image (default: kube-lite:dev, or $KUBE_LITE_IMAGE)`;

function parseArguments(argv) {
  const options = { offline: false, build: true, baseOnly: false, tag: process.env.KUBE_LITE_IMAGE || 'kube-lite:dev' };
  for (let i = 0; i < argv.length; i += 1) {
    const argument = argv[i];
    if (argument === '--offline') options.offline = true;
    else if (argument === '--no-build') options.build = false;
    else if (argument === '--base-only') options.baseOnly = true;
    else if (argument === '--tag' && argv[i + 1]) options.tag = argv[++i];
    else if (argument === '--help' || argument === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else {
      console.error(`images: unknown argument "${argument}"\n${USAGE}`);
      process.exit(2);
    }
  }
  return options;
}

class ImageBuildError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ImageBuildError';
  }
}

function docker(args, options = {}) {
  const result = spawnSync('docker', args, { cwd: root, encoding: 'utf8', ...options });
  if (result.error) throw new ImageBuildError(`docker ${args[0]}: ${result.error.message} (is the docker CLI installed?)`);
  return result;
}

/** Runs `tar -c ...` piped into `docker ...`; resolves when both succeeded, with docker's output. */
function tarIntoDocker(tarArgs, dockerArgs, environment = process.env) {
  return new Promise((resolve, reject) => {
    const tar = spawn('tar', tarArgs, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    const sink = spawn('docker', dockerArgs, { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], env: environment });
    tar.stdout.pipe(sink.stdin);
    let output = '';
    const keep = (chunk) => {
      output = (output + chunk.toString()).slice(-64 * 1024);
    };
    sink.stdout.on('data', keep);
    sink.stderr.on('data', keep);
    const exits = [tar, sink].map((child) => new Promise((done) => child.on('close', (code) => done(code))));
    tar.on('error', reject);
    sink.on('error', reject);
    Promise.all(exits).then(([tarCode, dockerCode]) => {
      if (tarCode !== 0) reject(new ImageBuildError(`tar exited with ${tarCode} while sending the context`));
      else if (dockerCode !== 0) reject(new ImageBuildError(`docker ${dockerArgs[0]} failed (exit ${dockerCode}):\n${output.split('\n').slice(-25).join('\n')}`));
      else resolve(output);
    });
  });
}

function imagePresent(image) {
  return docker(['image', 'inspect', image], { stdio: 'ignore' }).status === 0;
}

/** The BASE_IMAGE default the Dockerfile declares. */
function baseImageName() {
  const text = fs.readFileSync(path.join(root, dockerfile), 'utf8');
  const match = /^ARG BASE_IMAGE=(\S+)/m.exec(text);
  if (!match) throw new ImageBuildError(`${dockerfile} has no "ARG BASE_IMAGE=<image>" line`);
  return match[1];
}

// ---- the local stand-in for the official Node.js image ----

/** Shared libraries of an ELF file, as the dynamic loader resolves them on this host. */
function sharedLibraries(file) {
  const output = execFileSync('ldd', [file], { encoding: 'utf8' });
  const libraries = [];
  for (const line of output.split('\n')) {
    const arrow = /=>\s+(\/\S+)/.exec(line);
    const bare = /^\s*(\/\S+)\s+\(/.exec(line);
    const library = arrow ? arrow[1] : bare ? bare[1] : undefined;
    if (library) libraries.push(library);
  }
  return libraries;
}

function findOnPath(command) {
  for (const directory of (process.env.PATH || '').split(':')) {
    const candidate = path.join(directory, command);
    if (directory && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

async function buildLocalBaseImage(image) {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((file) => fs.existsSync(file));
  if (!busybox) throw new ImageBuildError('building the local base image needs a static busybox: apt-get install busybox-static');
  const linkage = spawnSync('ldd', [busybox], { encoding: 'utf8' });
  if (!/not a dynamic executable|statically linked/.test(`${linkage.stdout}${linkage.stderr}`)) {
    throw new ImageBuildError(`${busybox} is not statically linked: apt-get install busybox-static`);
  }
  const node = fs.realpathSync(process.execPath);
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-lite-base-'));
  try {
    const put = (source, target) => {
      const destination = path.join(staging, target);
      fs.mkdirSync(path.dirname(destination), { recursive: true });
      fs.copyFileSync(fs.realpathSync(source), destination);
      fs.chmodSync(destination, fs.statSync(fs.realpathSync(source)).mode & 0o777);
    };
    put(node, 'usr/local/bin/node');
    // Native modules (rocksdb, node-pty) need nothing beyond what node itself links.
    for (const library of sharedLibraries(node)) put(library, library);
    put(busybox, 'bin/busybox');
    const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter((name) => /^[a-z0-9_.[-]+$/.test(name) && name !== 'busybox');
    for (const applet of applets) fs.symlinkSync('busybox', path.join(staging, 'bin', applet));
    fs.mkdirSync(path.join(staging, 'usr/bin'), { recursive: true });
    fs.symlinkSync('/bin/busybox', path.join(staging, 'usr/bin/env'));
    for (const directory of ['etc', 'root', 'home/node', 'var/tmp', 'usr/local/lib', 'sbin', 'usr/sbin']) fs.mkdirSync(path.join(staging, directory), { recursive: true });
    fs.mkdirSync(path.join(staging, 'tmp'), { mode: 0o1777 });
    fs.chmodSync(path.join(staging, 'tmp'), 0o1777);
    // The official image's users: root and node (1000); nobody for the pause image.
    fs.writeFileSync(path.join(staging, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
    fs.writeFileSync(path.join(staging, 'etc/group'), 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n');
    fs.writeFileSync(path.join(staging, 'etc/nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\n');
    if (process.getuid && process.getuid() === 0) fs.chownSync(path.join(staging, 'home/node'), 1000, 1000);
    else fs.chmodSync(path.join(staging, 'home/node'), 0o1777);

    const version = process.version.replace(/^v/, '');
    const changes = [
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      `ENV NODE_VERSION=${version}`,
      `LABEL org.opencontainers.image.description="kube-lite local stand-in for ${image}: host node ${version} + busybox"`,
      'CMD ["node"]',
    ];
    await tarIntoDocker(['-C', staging, '--numeric-owner', '-c', '.'], ['import', ...changes.flatMap((change) => ['--change', change]), '-', image]);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

async function ensureBaseImage(image, offline) {
  if (imagePresent(image)) return 'present';
  if (!offline) {
    console.log(`[images] ${image} is absent: trying to pull it...`);
    const pulled = docker(['pull', image], { stdio: ['ignore', 'inherit', 'pipe'], timeout: 120_000 });
    if (pulled.status === 0) return 'pulled';
    console.log(`[images] pull failed (${(pulled.stderr || '').trim().split('\n').pop() || 'timeout'}): building a local stand-in`);
  }
  await buildLocalBaseImage(image);
  return 'built locally';
}

// ---- the build context ----

/** Top-level production dependency directories (npm's own view), relative to the root. */
function productionDependencies() {
  const listing = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const paths = new Set();
  for (const line of listing.stdout.split('\n')) {
    const relative = path.relative(root, line.trim());
    if (!relative || relative.startsWith('..')) continue;
    // Only the outermost node_modules entry: nested ones travel inside it.
    const match = /^((?:packages\/[^/]+\/)?node_modules\/(?:@[^/]+\/)?[^/]+)/.exec(relative);
    if (match) paths.add(match[1]);
  }
  if (paths.size === 0) throw new ImageBuildError(`npm ls --omit=dev listed no dependencies (exit ${listing.status}): run npm ci first`);
  return [...paths].sort();
}

function contextPaths(target) {
  const paths = [dockerfile];
  if (target === 'pause') return paths;
  paths.push('examples/apps');
  if (target === 'ml-serving') return paths;
  paths.push('package.json', 'package-lock.json', 'proto', 'deploy/bin', 'node_modules/@kube-lite');
  for (const name of fs.readdirSync(path.join(root, 'packages'))) {
    for (const part of ['package.json', 'dist']) if (fs.existsSync(path.join(root, 'packages', name, part))) paths.push(`packages/${name}/${part}`);
  }
  paths.push(...productionDependencies());
  // A path given twice (or inside another) would reach tar twice, and tar stores the second as a hard link.
  const unique = [...new Set(paths)].sort();
  return unique.filter((candidate) => !unique.some((other) => other !== candidate && candidate.startsWith(`${other}/`)));
}

/** Left out of every context: tests, source maps, declarations, native sources and other platforms' binaries. */
const CONTEXT_EXCLUDES = [
  '*.test.js',
  '*.test.d.ts',
  '*.map',
  '*.d.ts',
  '*.tsbuildinfo',
  'node_modules/node-pty/deps',
  'node_modules/node-pty/src',
  'node_modules/node-pty/third_party',
  'node_modules/node-pty/prebuilds',
  'node_modules/rocksdb/deps',
  'node_modules/rocksdb/prebuilds/win32-*',
  'node_modules/rocksdb/prebuilds/darwin-*',
  'node_modules/rocksdb/prebuilds/*/*musl*',
];

async function buildTarget(target, tag, buildArgs = {}) {
  const tarArgs = ['-c', ...CONTEXT_EXCLUDES.map((pattern) => `--exclude=${pattern}`), ...contextPaths(target)];
  const args = ['build', '-f', dockerfile, '--target', target, '-t', tag, ...Object.entries(buildArgs).flatMap(([key, value]) => ['--build-arg', `${key}=${value}`]), '-'];
  // The classic builder: it runs on every engine, and BuildKit may be absent (no buildx plugin).
  await tarIntoDocker(tarArgs, args, { ...process.env, DOCKER_BUILDKIT: '0' });
}

function imageSizeMb(image) {
  const result = docker(['image', 'inspect', '--format', '{{.Size}}', image]);
  return result.status === 0 ? (Number(result.stdout.trim()) / 1e6).toFixed(0) : '?';
}

async function main() {
  const options = parseArguments(process.argv.slice(2));
  const version = docker(['version', '--format', '{{.Server.Version}}']);
  if (version.status !== 0) throw new ImageBuildError(`the Docker daemon does not answer: ${(version.stderr || '').trim()}`);
  if (!findOnPath('tar')) throw new ImageBuildError('tar is needed to send the build context');
  const timings = [];
  const timed = async (label, image, action) => {
    const startedMs = Date.now();
    const note = await action();
    timings.push({ label, image, seconds: ((Date.now() - startedMs) / 1000).toFixed(1), note: note || '' });
  };
  if (options.build) {
    await timed('workspace build', '', () => {
      try {
        execFileSync(process.execPath, [path.join(root, 'scripts/ensure-built.js')], { cwd: root, stdio: 'inherit' });
        return '';
      } catch {
        // tsc -b still emits JavaScript for files with type errors; the images use what was emitted.
        console.warn('[images] WARNING: the TypeScript build reported errors (above); building the images from the JavaScript it emitted');
        return 'type errors (see above)';
      }
    });
  }
  const base = baseImageName();
  await timed('base image', base, () => ensureBaseImage(base, options.offline));
  if (!options.baseOnly) {
    await timed('pause', 'kube-lite/pause:1.0', () => buildTarget('pause', 'kube-lite/pause:1.0'));
    for (const modelVersion of ['1.0', '2.0']) await timed('ml-serving', `ml-serving:${modelVersion}`, () => buildTarget('ml-serving', `ml-serving:${modelVersion}`, { MODEL_VERSION: modelVersion }));
    await timed('components', options.tag, () => buildTarget('kube-lite', options.tag));
  }
  console.log('\n[images] done');
  console.log(`${'step'.padEnd(18)}${'image'.padEnd(26)}${'seconds'.padStart(8)}  ${'MB'.padStart(5)}  note`);
  for (const row of timings) {
    console.log(`${row.label.padEnd(18)}${row.image.padEnd(26)}${row.seconds.padStart(8)}  ${(row.image ? imageSizeMb(row.image) : '').padStart(5)}  ${row.note}`);
  }
}

main().catch((error) => {
  console.error(`images: ${error instanceof ImageBuildError ? error.message : error.stack}`);
  process.exit(1);
});
