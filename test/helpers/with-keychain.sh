#!/bin/sh
# Runs a command where the OS keychain works, as it does on a desktop: inside a D-Bus session
# with an unlocked GNOME Keyring when there is no session bus (CI, SSH, containers).
# Elsewhere (a desktop session, macOS, Windows) the command runs as it is.
if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || [ "$(uname)" != "Linux" ]; then
  exec "$@"
fi
if ! command -v dbus-run-session >/dev/null 2>&1 || ! command -v gnome-keyring-daemon >/dev/null 2>&1; then
  echo "with-keychain: no dbus-run-session/gnome-keyring-daemon; the keychain tests will fail (apt-get install dbus-daemon gnome-keyring)" >&2
  exec "$@"
fi
exec dbus-run-session -- sh -c 'printf x | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; exec "$@"' sh "$@"
