import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { transformFileSync } from '@swc/core';
import { BatchedLineWriter, Logger } from './log';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('BatchedLineWriter', () => {
  it('writes the lines of one turn of the event loop in one write, in order', async () => {
    const writes: string[] = [];
    const writer = new BatchedLineWriter((text) => writes.push(text));
    writer.write('a');
    writer.write('b');
    writer.write('c');
    expect(writes).toEqual([]);
    await nextTurn();
    expect(writes).toEqual(['a\nb\nc\n']);
    writer.write('d');
    await nextTurn();
    expect(writes).toEqual(['a\nb\nc\n', 'd\n']);
  });

  it('writes at once when the batch outgrows its bound, and flush writes what is pending', async () => {
    const writes: string[] = [];
    const writer = new BatchedLineWriter((text) => writes.push(text), 10);
    writer.write('12345');
    writer.write('67890');
    expect(writes).toEqual(['12345\n67890\n']);
    writer.write('x');
    writer.flush();
    expect(writes).toEqual(['12345\n67890\n', 'x\n']);
    writer.flush();
    await nextTurn();
    expect(writes).toHaveLength(2);
  });

  it('serves as a Logger destination: one JSON line per record', async () => {
    const writes: string[] = [];
    const writer = new BatchedLineWriter((text) => writes.push(text));
    const logger = new Logger({ write: (line) => writer.write(line), now: () => new Date(0) });
    logger.info('request', { code: 201 });
    logger.debug('hidden');
    await nextTurn();
    expect(writes.join('').trim().split('\n').map((line) => JSON.parse(line) as unknown)).toEqual([
      { code: 201, level: 'info', ts: '1970-01-01T00:00:00.000Z', msg: 'request', component: 'kube-apiserver' },
    ]);
  });
});

describe('Logger writing to stderr', () => {
  // A real process, since the point is what happens when one ends: log.ts has no imports, so swc can
  // compile it alone into a scratch directory.
  let directory: string;

  beforeAll(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'apiserver-log-'));
    const compiled = transformFileSync(path.join(__dirname, 'log.ts'), { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } });
    fs.writeFileSync(path.join(directory, 'log.js'), compiled.code);
  });

  afterAll(() => {
    fs.rmSync(directory, { recursive: true, force: true });
  });

  const LINES = 200;
  const prelude = `const { Logger } = require(${JSON.stringify(path.join('DIR', 'log.js'))}); const logger = new Logger(); for (let i = 0; i < ${LINES}; i++) logger.info('line', { i });`;

  it.each([
    ['process.exit', 'process.exit(0);', 0],
    ['SIGTERM handled by exiting', "process.once('SIGTERM', () => process.exit(0)); setTimeout(() => {}, 10000); process.kill(process.pid, 'SIGTERM');", 0],
    ['the event loop running dry', '', 0],
    ['an uncaught exception', "throw new Error('boom');", 1],
  ] as const)('loses no line when the process ends by %s', (_case, ending, exitCode) => {
    const script = prelude.replace('DIR', directory.replace(/\\/g, '/')) + ending;
    const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 15_000 });
    expect(result.status).toBe(exitCode);
    const indexes = result.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => (JSON.parse(line) as { i: number }).i);
    expect(indexes).toEqual(Array.from({ length: LINES }, (_, index) => index));
  });
});
