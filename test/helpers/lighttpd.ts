/**
 * A throwaway lighttpd (Debian package `lighttpd`) on 127.0.0.1 at a free port with a config of
 * the test's own: /digest/ behind mod_auth's Digest with algorithm SHA-256 (RFC 7616), which
 * Apache 2.4's mod_auth_digest does not offer. Config, pid file, logs and users in a temp dir.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { acceptsTcp, freeTcpPort, makeDaemonDir, startDaemon } from './daemon.ts';
import type { Daemon } from './daemon.ts';

const LIGHTTPD = '/usr/sbin/lighttpd';

export const SHA_REALM = 'vigil-sha';
export const SHA_USER = 'nvr-admin';
export const SHA_PASSWORD = 'sha256-digest-pass-3c9';

export interface TestLighttpd extends Daemon {
  port: number;
  url: string;
}

function lighttpdConf(dir: string, port: number): string {
  return [
    `server.document-root = "${dir}/htdocs"`,
    `server.port = ${port}`,
    'server.bind = "127.0.0.1"',
    `server.pid-file = "${dir}/lighttpd.pid"`,
    `server.errorlog = "${dir}/error.log"`,
    'server.modules = ("mod_auth", "mod_authn_file")',
    // The plain backend keeps the password, so lighttpd can answer any digest algorithm.
    'auth.backend = "plain"',
    `auth.backend.plain.userfile = "${dir}/users"`,
    `auth.require = ( "/digest/" => ( "method" => "digest", "realm" => "${SHA_REALM}", "require" => "valid-user", "algorithm" => "SHA-256" ) )`,
    'mimetype.assign = (".json" => "application/json")',
    '',
  ].join('\n');
}

export async function startLighttpd(): Promise<TestLighttpd> {
  const dir = await makeDaemonDir('lighttpd');
  await chmod(dir, 0o755);
  const port = await freeTcpPort();
  await mkdir(join(dir, 'htdocs', 'digest'), { recursive: true });
  await writeFile(join(dir, 'htdocs', 'digest', 'status.json'), JSON.stringify({ status: 'RECORDING' }));
  await writeFile(join(dir, 'users'), `${SHA_USER}:${SHA_PASSWORD}\n`, { mode: 0o644 });
  await writeFile(join(dir, 'lighttpd.conf'), lighttpdConf(dir, port));
  const daemon = await startDaemon('lighttpd', dir, LIGHTTPD, ['-D', '-f', join(dir, 'lighttpd.conf')], () => acceptsTcp(port));
  return { ...daemon, port, url: `http://127.0.0.1:${port}` };
}
