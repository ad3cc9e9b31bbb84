// Pod admission upstream enables by default: DefaultTolerationSeconds (pods
// tolerate a not-ready or unreachable node for a while before eviction) and
// ServiceAccount (pods run as the namespace's `default` account unless told).

import { addDefaultTolerations, type Pod } from '@kube-lite/api';
import type { AdmissionAttributes, AdmissionPlugin } from './types';

function podBeingCreated(attributes: AdmissionAttributes): Pod | undefined {
  if (attributes.operation !== 'CREATE' || attributes.subresource !== '') return undefined;
  if (attributes.resource.group !== '' || attributes.resource.resource !== 'pods') return undefined;
  return attributes.object as Pod | undefined;
}

export interface DefaultTolerationSecondsOptions {
  /** --default-not-ready-toleration-seconds (default 300). */
  notReadyTolerationSeconds: number;
  /** --default-unreachable-toleration-seconds (default 300). */
  unreachableTolerationSeconds: number;
}

export class DefaultTolerationSeconds implements AdmissionPlugin {
  readonly name = 'DefaultTolerationSeconds';

  constructor(private readonly options: DefaultTolerationSecondsOptions) {}

  admit(attributes: AdmissionAttributes): void {
    const pod = podBeingCreated(attributes);
    if (pod === undefined) return;
    addDefaultTolerations(pod, this.options.notReadyTolerationSeconds, this.options.unreachableTolerationSeconds);
  }
}

export const DEFAULT_SERVICE_ACCOUNT_NAME = 'default';

export class ServiceAccountAdmission implements AdmissionPlugin {
  readonly name = 'ServiceAccount';

  admit(attributes: AdmissionAttributes): void {
    const pod = podBeingCreated(attributes);
    if (pod?.spec === undefined) return;
    // serviceAccount is the deprecated spelling; upstream keeps the two in step.
    const name = pod.spec.serviceAccountName || pod.spec.serviceAccount || DEFAULT_SERVICE_ACCOUNT_NAME;
    pod.spec.serviceAccountName = name;
    pod.spec.serviceAccount = name;
  }
}
