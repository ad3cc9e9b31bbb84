export { ControllerExpectations, EXPECTATIONS_TIMEOUT_MS } from './expectations';
export { slowStartBatch, type SlowStartResult } from './slow-start';
export { compareForDeletion, podsToDelete, POD_DELETION_COST_ANNOTATION } from './pod-ranking';
export { adoptPatch, AdoptionRefusedError, claimObjects, ClaimError, freshOwnerCheck, releasePatch, type ClaimOptions } from './claim';
export { isPodActive, podFromTemplate, resolveControllerRef, selectorMatchesPod } from './pods';
export { ownedPodEventHandler, type PodOwner } from './owned-pod-events';
