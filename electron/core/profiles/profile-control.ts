import type { Profile } from '../../shared/profile.js';
import type { ControlOverride } from '../server/choose-control.js';

/** A profile's choice of server control, as the engine's override. */
export function controlOf(profile: Profile): ControlOverride {
  const c = profile.control;
  switch (c.kind) {
    case 'service':
      return { service: c.name };
    case 'launchd':
      return { launchd: { label: c.label, plist: c.plist, domain: c.domain } };
    case 'commands':
      return { startCommand: c.start, stopCommand: c.stop ?? undefined };
    case 'auto':
      return {};
  }
}
