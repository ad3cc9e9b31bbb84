export { LeaseExistsError, LeaseNotFoundError, LeaseTtlTooLargeError, NotPrimaryError } from './errors';
export {
  leaseBucket,
  leaseIdForIndex,
  Lessor,
  maxLeaseTtlSeconds,
  type LeaseInfo,
  type LeaseTimeToLive,
  type LessorOptions,
} from './lessor';
