import { createRequire } from 'node:module';
import { QuiesceError } from '../errors.js';

/** Where passwords live: the OS keychain in the app and the CLI, memory in some tests. */
export interface SecretStore {
  get(account: string): Promise<string | null>;
  set(account: string, secret: string): Promise<void>;
  delete(account: string): Promise<boolean>;
}

interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

const KEYCHAIN_SERVICE = 'Quiesce';

/**
 * The OS keychain through keytar: macOS Keychain, Windows Credential Vault, the Secret
 * Service (GNOME Keyring, KWallet) on Linux. Never falls back to a file.
 */
export class KeychainSecretStore implements SecretStore {
  private keytar: Keytar | null = null;

  constructor(private readonly service = KEYCHAIN_SERVICE) {}

  private load(): Keytar {
    if (this.keytar) return this.keytar;
    try {
      this.keytar = createRequire(import.meta.url)('keytar') as Keytar;
      return this.keytar;
    } catch (error) {
      throw noKeychain(error);
    }
  }

  async get(account: string): Promise<string | null> {
    return this.call(() => this.load().getPassword(this.service, account));
  }

  async set(account: string, secret: string): Promise<void> {
    return this.call(() => this.load().setPassword(this.service, account, secret));
  }

  async delete(account: string): Promise<boolean> {
    return this.call(() => this.load().deletePassword(this.service, account));
  }

  private async call<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (error) {
      throw error instanceof QuiesceError ? error : noKeychain(error);
    }
  }
}

function noKeychain(error: unknown): QuiesceError {
  const detail = error instanceof Error ? error.message : String(error);
  return new QuiesceError(
    'no-keychain',
    `No keychain is available (${detail}).`,
    'On Linux the keychain is a Secret Service (GNOME Keyring or KWallet) in a desktop session. On a server without one, keep no secret there: read the login from an owner-only option file (--option-file ~/.my.cnf), use socket authentication (--no-password), or set QUIESCE_PASSWORD (and QUIESCE_ARCHIVE_PASSPHRASE, AWS_* variables) for the run.',
    { cause: error },
  );
}

/** For tests of logic around secrets, and nothing else. */
export class MemorySecretStore implements SecretStore {
  readonly secrets = new Map<string, string>();
  async get(account: string): Promise<string | null> {
    return this.secrets.get(account) ?? null;
  }
  async set(account: string, secret: string): Promise<void> {
    this.secrets.set(account, secret);
  }
  async delete(account: string): Promise<boolean> {
    return this.secrets.delete(account);
  }
}
