/**
 * Where webhooks may be delivered. A subscription names any URL, and the delivery log shows what
 * each attempt got back, so without a rule the log is a port scanner for the networks Vigil sits
 * in (cloud metadata at 169.254.169.254, databases on 10.x, services on loopback). Receivers on
 * loopback, private, link-local, carrier-grade NAT and other non-public addresses are refused
 * unless their network is named in VIGIL_WEBHOOK_ALLOW_NETWORKS. The check runs on the resolved
 * addresses at every delivery attempt, and the connection goes to the address that was checked,
 * so a name that later resolves elsewhere (DNS rebinding) gains nothing.
 */
import { lookup } from 'node:dns/promises';
import net from 'node:net';

/** Networks that are not the public internet (IANA special-purpose registries). */
const NON_PUBLIC_NETWORKS: readonly string[] = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12',
  '192.0.0.0/24', '192.168.0.0/16', '198.18.0.0/15', '224.0.0.0/4', '240.0.0.0/4',
  '::/128', '::1/128', '::ffff:0:0/96', '64:ff9b::/96', 'fc00::/7', 'fe80::/10', 'ff00::/8',
];

/** A CIDR as net.BlockList takes it; throws with a message naming the bad part. */
export function parseCidr(cidr: string): { network: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const [network = '', prefixText] = cidr.trim().split('/');
  const version = net.isIP(network);
  if (version === 0) throw new Error(`${JSON.stringify(cidr)} is not a network: expected an address/prefix such as 10.1.0.0/16`);
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw new Error(`${JSON.stringify(cidr)} has a prefix outside 0-${max}`);
  return { network, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

function blockListOf(cidrs: readonly string[]): net.BlockList {
  const list = new net.BlockList();
  for (const cidr of cidrs) {
    const { network, prefix, family } = parseCidr(cidr);
    list.addSubnet(network, prefix, family);
  }
  return list;
}

const nonPublic = blockListOf(NON_PUBLIC_NETWORKS);

/** Decides which receiver addresses deliveries may connect to. */
export interface ReceiverPolicy {
  /** Why `address` (an IP) may not receive webhooks, or null when it may. */
  refusal(address: string): string | null;
}

export function createReceiverPolicy(allowedNetworks: readonly string[]): ReceiverPolicy {
  const allowed = blockListOf(allowedNetworks);
  return {
    refusal(address) {
      const family = net.isIPv4(address) ? 'ipv4' : 'ipv6';
      if (!nonPublic.check(address, family) || allowed.check(address, family)) return null;
      return `receiver address ${address} is not public (loopback, private or link-local); allow its network in VIGIL_WEBHOOK_ALLOW_NETWORKS if it is meant`;
    },
  };
}

/** A receiver's host as an IP (URL hostnames keep IPv6 in brackets), or undefined for a name. */
export function literalAddress(hostname: string): string | undefined {
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  return net.isIP(bare) ? bare : undefined;
}

/** The address to connect to: every address the name resolves to must be allowed (any one may be used). */
export async function resolveReceiver(hostname: string, policy: ReceiverPolicy): Promise<{ address: string; family: 4 | 6 } | { error: string }> {
  const literal = literalAddress(hostname);
  let addresses: { address: string; family: number }[];
  try {
    addresses = literal ? [{ address: literal, family: net.isIP(literal) }] : await lookup(hostname, { all: true });
  } catch {
    return { error: `receiver host ${hostname} does not resolve` };
  }
  for (const { address } of addresses) {
    const refusal = policy.refusal(address);
    if (refusal) return { error: refusal };
  }
  const first = addresses[0];
  if (!first) return { error: `receiver host ${hostname} does not resolve` };
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}
