/**
 * A throwaway dnsmasq (Debian package `dnsmasq-base`) on 127.0.0.1 at a free port (UDP and TCP),
 * with its config on the command line and its pid file in a temp dir: no upstream, no
 * /etc/hosts, just the records below, authoritative for vigil.test so NS and SOA answer too.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { acceptsTcp, freeTcpPort, makeDaemonDir, startDaemon } from './daemon.ts';
import type { Daemon } from './daemon.ts';

const DNSMASQ = '/usr/sbin/dnsmasq';

export function hasDnsmasq(): boolean {
  return existsSync(DNSMASQ);
}

export interface TestDnsmasq extends Daemon {
  port: number;
}

/** TXT records on big.vigil.test: together far over 512 bytes, so the UDP answer is truncated. */
export const BIG_TXT_COUNT = 30;

export async function startDnsmasq(): Promise<TestDnsmasq> {
  const dir = await makeDaemonDir('dnsmasq');
  const port = await freeTcpPort();
  const records = [
    '--host-record=a.vigil.test,192.0.2.10,2001:db8::10',
    '--cname=www.vigil.test,a.vigil.test',
    '--mx-host=vigil.test,mail.vigil.test,10',
    '--txt-record=vigil.test,v=spf1 -all',
    '--srv-host=_sip._udp.vigil.test,sip.vigil.test,5060,0,5',
    '--auth-zone=vigil.test',
    '--auth-server=ns1.vigil.test,127.0.0.1',
    '--auth-soa=2026120601,hostmaster.vigil.test',
    ...Array.from({ length: BIG_TXT_COUNT }, (_, i) => `--txt-record=big.vigil.test,padding-record-number-${i + 1}-${'x'.repeat(24)}`),
  ];
  const args = [
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    `--port=${port}`,
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    `--pid-file=${join(dir, 'dnsmasq.pid')}`,
    '--log-facility=-',
    ...(process.getuid?.() === 0 ? ['--user=nobody'] : []),
    ...records,
  ];
  const daemon = await startDaemon('dnsmasq', dir, DNSMASQ, args, () => acceptsTcp(port));
  return { ...daemon, port };
}
