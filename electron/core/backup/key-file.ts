import path from 'node:path';
import type { AtRestEncryption } from '../../shared/manifest.js';
import type { ComponentPlan } from './inventory.js';

/**
 * The key file of data encrypted at rest is archived as a component of its own — only inside
 * an encrypted archive: an archive anyone can read must not hold the key to the data it holds.
 * Returns the component and the encryption as the manifest records it, or null.
 */
export function keyFileComponent(encryption: AtRestEncryption | null | undefined, archiveEncrypted: boolean): { plan: ComponentPlan; encryption: AtRestEncryption } | null {
  if (!encryption?.keyFile || !archiveEncrypted) return null;
  const name = path.basename(encryption.keyFile);
  return {
    plan: { name: 'keyfile', kind: 'keyfile', originalPath: path.dirname(encryption.keyFile), select: (n) => n === name },
    encryption: { ...encryption, keyFileArchived: true },
  };
}
