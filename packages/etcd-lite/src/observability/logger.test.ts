import { Logger, REDACTED, type LogLevel } from './logger';

function capture(level: LogLevel = 'info'): { logger: Logger; lines: Array<Record<string, unknown>>; raw: string[] } {
  const raw: string[] = [];
  const logger = new Logger({ level, component: 'raft', write: (line) => raw.push(line), now: () => new Date(Date.UTC(2024, 0, 2, 3, 4, 5)) });
  return { logger, raw, lines: raw.map((line) => JSON.parse(line)) as never };
}

describe('Logger', () => {
  test('writes one JSON object per event with level, ts, msg, component and fields', () => {
    const { logger, raw } = capture();
    logger.info('became leader', { term: 5, memberId: '8e9e05c52164694d' });
    expect(raw).toHaveLength(1);
    expect(raw[0]).not.toContain('\n');
    expect(JSON.parse(raw[0]!)).toEqual({
      level: 'info',
      ts: '2024-01-02T03:04:05.000Z',
      msg: 'became leader',
      component: 'raft',
      term: 5,
      memberId: '8e9e05c52164694d',
    });
  });

  test.each<{ level: LogLevel; written: LogLevel[] }>([
    { level: 'debug', written: ['debug', 'info', 'warn', 'error'] },
    { level: 'info', written: ['info', 'warn', 'error'] },
    { level: 'warn', written: ['warn', 'error'] },
    { level: 'error', written: ['error'] },
  ])('at level $level writes $written', ({ level, written }) => {
    const raw: string[] = [];
    const logger = new Logger({ level, write: (line) => raw.push(line) });
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(raw.map((line) => JSON.parse(line).level)).toEqual(written);
  });

  test('child loggers add fixed fields and may change the component', () => {
    const raw: string[] = [];
    const root = new Logger({ component: 'etcd', write: (line) => raw.push(line) });
    const child = root.child({ component: 'transport', localMemberId: 'a1' }).child({ remotePeerId: 'b2' });
    child.warn('lost peer stream', { reason: 'EOF' });
    expect(JSON.parse(raw[0]!)).toMatchObject({ component: 'transport', localMemberId: 'a1', remotePeerId: 'b2', reason: 'EOF' });
    root.info('still mine');
    expect(JSON.parse(raw[1]!)).toEqual(expect.not.objectContaining({ remotePeerId: 'b2' }));
  });

  test('never writes stored values: bytes become a length, data-bearing fields are redacted', () => {
    const { logger, raw } = capture();
    const secret = 'hunter2-secret-password';
    logger.info('put', {
      key: '/registry/secrets/default/db',
      value: secret,
      request: { key: 'k', value: Buffer.from(secret), prevValue: secret, nested: { data: secret } },
      payload: Buffer.from(secret),
    });
    expect(raw[0]).not.toContain('hunter2');
    expect(JSON.parse(raw[0]!)).toMatchObject({
      key: '/registry/secrets/default/db',
      value: REDACTED,
      request: { key: 'k', value: REDACTED, prevValue: REDACTED, nested: { data: REDACTED } },
      payload: `<${secret.length} bytes>`,
    });
  });

  test('errors keep their name, message and cause; fields cannot overwrite level, ts or msg', () => {
    const { logger, raw } = capture();
    const error = new Error('fsync failed', { cause: new Error('EIO') });
    logger.error('persist failed', { error, level: 'debug', msg: 'spoof', count: 3n });
    expect(JSON.parse(raw[0]!)).toMatchObject({
      level: 'error',
      msg: 'persist failed',
      error: { name: 'Error', message: 'fsync failed', cause: { name: 'Error', message: 'EIO' } },
      count: '3',
    });
  });
});
