// Runs every plugin's mutating phase in order, then every validating phase, as
// upstream's admission chain does.

import type { AdmissionAttributes, AdmissionPlugin } from './types';

export class AdmissionChain {
  constructor(readonly plugins: readonly AdmissionPlugin[]) {}

  async admit(attributes: AdmissionAttributes): Promise<void> {
    for (const plugin of this.plugins) await plugin.admit?.(attributes);
  }

  async validate(attributes: AdmissionAttributes): Promise<void> {
    for (const plugin of this.plugins) await plugin.validate?.(attributes);
  }
}
