/**
 * fping command lines for tests. `blackholeFping` runs fping in a network namespace of its own
 * (unshare, as root) where loopback is up and 198.51.100.0/24 and 2001:db8::/32 are blackholed:
 * pings to those are lost, and no packet leaves the namespace.
 */
import { existsSync } from 'node:fs';

export const FPING = '/usr/bin/fping';
export const BLACKHOLE_V4 = '198.51.100.7';
export const BLACKHOLE_V6 = '2001:db8::7';

export function hasFping(): boolean {
  return existsSync(FPING);
}

const NAMESPACE_SETUP = 'ip link set lo up && ip route add blackhole 198.51.100.0/24 && ip -6 route add blackhole 2001:db8::/32 && exec /usr/bin/fping "$@"';

export const blackholeFping: readonly string[] = ['/usr/bin/unshare', '--net', '/bin/sh', '-c', NAMESPACE_SETUP, 'fping'];

/** fping as the unprivileged user nobody: works through Debian's cap_net_raw file capability. */
export const unprivilegedFping: readonly string[] = ['/usr/bin/setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', FPING];
