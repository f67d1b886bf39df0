import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { Profile } from '../../electron/shared/profile.js';
import { useApi } from '../../renderer/src/lib/api.js';
import ProfileForm from '../../renderer/src/components/ProfileForm.svelte';
import { HOST_FINGERPRINT, calls, fakeApi, profile, report } from './fake-api.js';

const ok = <T,>(value: T) => Promise.resolve({ ok: true as const, value });
const settle = () => new Promise((r) => setTimeout(r, 0));

describe('a profile for a replica on another host', () => {
  type SaveRequest = { profile: Profile; sshKeyPassphrase?: string | null };
  async function fillRemote(requests: SaveRequest[] = []): Promise<Profile[]> {
    const saved: Profile[] = [];
    useApi(fakeApi(report(), null, { saveProfile: (r) => (saved.push(r.profile), requests.push(r), ok({ ...profile, ...r.profile })) }));
    render(ProfileForm, { onsaved: () => undefined, oncancel: () => undefined });
    await fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'db2' } });
    await fireEvent.click(screen.getByLabelText('On another host, over SSH'));
    await fireEvent.input(screen.getByLabelText('Host'), { target: { value: 'db2.lan' } });
    await fireEvent.input(screen.getByLabelText('User'), { target: { value: 'backup' } });
    await fireEvent.input(screen.getByLabelText('Password'), { target: { value: 's3cret' } });
    return saved;
  }

  it('shows the host key to compare before anything is saved; trusting saves the profile with its host', async () => {
    const saved = await fillRemote();
    await fireEvent.click(screen.getByRole('button', { name: 'Save profile' }));
    await settle();
    expect(calls).toEqual(['host-key db2.lan']);
    expect(saved).toEqual([]);
    expect(screen.getByRole('alertdialog', { name: 'Confirm the host key' }).textContent).toContain(HOST_FINGERPRINT);

    await fireEvent.click(screen.getByRole('button', { name: 'Trust this host and save' }));
    await settle();
    expect(calls).toEqual(['host-key db2.lan', `trust ${HOST_FINGERPRINT}`]);
    expect(saved).toMatchObject([{ name: 'db2', ssh: { user: 'root', host: 'db2.lan', port: 22 }, connection: { socket: '/run/mysqld/mysqld.sock', user: 'backup' } }]);
  });

  it('“Do not trust” saves nothing; a changed key is refused in words', async () => {
    const saved = await fillRemote();
    await fireEvent.click(screen.getByRole('button', { name: 'Save profile' }));
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Do not trust' }));
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(saved).toEqual([]);

    useApi(fakeApi(report(), null, { hostKey: () => ok({ state: 'changed' as const, fingerprint: HOST_FINGERPRINT, knownHostsFile: '/home/dba/.ssh/known_hosts', line: 3 }), saveProfile: ({ profile: p }) => (saved.push(p), ok({ ...profile, ...p })) }));
    await fireEvent.click(screen.getByRole('button', { name: 'Save profile' }));
    await settle();
    expect(screen.getByRole('alert').textContent).toMatch(/The host key of db2\.lan is CHANGED \(\/home\/dba\/\.ssh\/known_hosts line 3\).*nothing was saved/);
    expect(saved).toEqual([]);
  });

  it('the SSH fields are checked like the others', async () => {
    await fillRemote();
    await fireEvent.input(screen.getByLabelText('Port', { selector: 'fieldset.bucket input' }), { target: { value: '99999' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Save profile' }));
    expect(screen.getAllByRole('alert').map((a) => a.textContent)).toContain('The SSH port is a number from 1 to 65535.');
    expect(calls).toEqual([]);
  });

  it('a key passphrase is asked for only when a key is named, and goes with the save (to the keychain), not into the profile', async () => {
    const requests: SaveRequest[] = [];
    await fillRemote(requests);
    expect(screen.queryByLabelText(/Key passphrase/)).toBeNull();
    await fireEvent.input(screen.getByLabelText(/Private key/), { target: { value: '/home/dba/.ssh/id_ed25519' } });
    const field = screen.getByLabelText(/Key passphrase/) as HTMLInputElement;
    expect(field.type).toBe('password');
    await fireEvent.input(field, { target: { value: 'open sesame' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Save profile' }));
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Trust this host and save' }));
    await settle();
    expect(requests).toHaveLength(1);
    expect(requests[0]!.sshKeyPassphrase).toBe('open sesame');
    expect(JSON.stringify(requests[0]!.profile)).not.toContain('open sesame');
    expect(requests[0]!.profile.ssh).toMatchObject({ keyFile: '/home/dba/.ssh/id_ed25519' });
  });
});
