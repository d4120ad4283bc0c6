/**
 * A throwaway Apache httpd (Debian package `apache2`) on 127.0.0.1 at a free port, with a config
 * of the test's own: /digest/ behind mod_auth_digest (MD5, qop=auth — all Apache 2.4 offers),
 * /open/ without auth. Its pid file, logs, htdigest file and document root live in a temp dir.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { acceptsTcp, freeTcpPort, makeDaemonDir, startDaemon } from './daemon.ts';
import type { Daemon } from './daemon.ts';

const APACHE = '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';

export const DIGEST_REALM = 'vigil-digest';
export const DIGEST_USER = 'camera-admin';
export const DIGEST_PASSWORD = 'axis-digest-pass-7e1';

export function hasApache(): boolean {
  return existsSync(APACHE);
}

export interface TestApache extends Daemon {
  port: number;
  url: string;
}

function httpdConf(dir: string, port: number): string {
  const modules = ['mpm_event', 'authn_core', 'authn_file', 'authz_core', 'authz_user', 'auth_digest', 'mime'];
  const asRoot = process.getuid?.() === 0;
  return [
    `ServerRoot ${dir}`,
    ...modules.map((m) => `LoadModule ${m}_module ${MODULES}/mod_${m}.so`),
    `Listen 127.0.0.1:${port}`,
    'ServerName 127.0.0.1',
    `PidFile ${dir}/httpd.pid`,
    `ErrorLog ${dir}/error.log`,
    'LogLevel warn',
    `DefaultRuntimeDir ${dir}`,
    `Mutex file:${dir} default`,
    // As root, httpd drops its children to this user; it must read the temp dir's files.
    ...(asRoot ? ['User nobody', 'Group nogroup'] : []),
    `DocumentRoot ${dir}/htdocs`,
    'TypesConfig /dev/null',
    'AddType application/json .json',
    `<Directory ${dir}/htdocs/digest>`,
    '  AuthType Digest',
    `  AuthName "${DIGEST_REALM}"`,
    '  AuthDigestProvider file',
    `  AuthUserFile ${dir}/htdigest`,
    `  AuthDigestDomain /digest/`,
    '  Require valid-user',
    '</Directory>',
    '',
  ].join('\n');
}

export async function startApache(): Promise<TestApache> {
  const dir = await makeDaemonDir('apache');
  await chmod(dir, 0o755);
  const port = await freeTcpPort();
  const ha1 = createHash('md5').update(`${DIGEST_USER}:${DIGEST_REALM}:${DIGEST_PASSWORD}`).digest('hex');
  await mkdir(join(dir, 'htdocs', 'digest'), { recursive: true });
  await mkdir(join(dir, 'htdocs', 'open'), { recursive: true });
  await writeFile(join(dir, 'htdigest'), `${DIGEST_USER}:${DIGEST_REALM}:${ha1}\n`, { mode: 0o644 });
  await writeFile(join(dir, 'htdocs', 'digest', 'status.json'), JSON.stringify({ status: 'UP', camera: { model: 'P1448-LE', temperature: 41 } }));
  await writeFile(join(dir, 'htdocs', 'open', 'status.json'), JSON.stringify({ status: 'DEGRADED', checks: [{ name: 'disk', free_pct: 7 }] }));
  await writeFile(join(dir, 'httpd.conf'), httpdConf(dir, port));
  const daemon = await startDaemon('apache2', dir, APACHE, ['-f', join(dir, 'httpd.conf'), '-DFOREGROUND'], () => acceptsTcp(port));
  return { ...daemon, port, url: `http://127.0.0.1:${port}` };
}
