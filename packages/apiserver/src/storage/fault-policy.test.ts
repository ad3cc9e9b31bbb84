import { GRPCUnavailableError } from 'etcd3/lib/errors';
import { stopChannelCloseCascade } from './fault-policy';

// etcd3 calls its module's isRecoverableError to decide whether to close a host's clients.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const errors = (): { isRecoverableError: (error: unknown) => boolean } => require('etcd3/lib/errors');
const unguarded = errors().isRecoverableError;

test.each([
  ['a host that went away', '14 UNAVAILABLE: Connection dropped', true],
  ['a call queued on a channel etcd3 itself closed', '14 UNAVAILABLE: Channel closed before call started', false],
])('after the guard, %s counts as recoverable: %s', (_case, message, recoverable) => {
  const error = new GRPCUnavailableError(message);
  expect(unguarded(error)).toBe(true);
  stopChannelCloseCascade();
  expect(errors().isRecoverableError(error)).toBe(recoverable);
});
