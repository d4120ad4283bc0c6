/**
 * The simulated fleet as data (pure): how many hosts of each probe type and behaviour, how many
 * servers they need, and — once the fleet process has said which ports it listens on — each
 * host's name and probe. Host names carry type and behaviour (`bench-http-hang-17`), so results
 * can be broken down by behaviour in SQL.
 */

export const PROBE_TYPES = ['http', 'tcp', 'ssh', 'snmp', 'dns', 'icmp'] as const;
export type BenchProbeType = (typeof PROBE_TYPES)[number];
export type ProbeMix = Record<BenchProbeType, number>;

/** What a target does: answer, answer after a delay, answer 500, refuse, or accept and say nothing. */
export const BEHAVIOURS = ['ok', 'slow', 'http_500', 'refused', 'hang'] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

/** How each probe type can fail on loopback (a TCP connect to a listener always succeeds, so TCP only refuses). */
const FAILING_KINDS: Record<BenchProbeType, Behaviour[]> = {
  http: ['refused', 'hang', 'http_500'],
  tcp: ['refused'],
  ssh: ['refused', 'hang'],
  snmp: ['hang'],
  dns: ['hang'],
  // Every loopback address answers a ping, and a blackhole needs a network namespace: ICMP hosts are up.
  icmp: [],
};

export interface HostDraft {
  index: number;
  type: BenchProbeType;
  behaviour: Behaviour;
}

/** Listeners the fleet process opens. */
export interface FleetLayout {
  httpServers: number;
  tcpListeners: number;
  /** TCP listeners that accept and never answer (HTTP and SSH checks time out). */
  silentListeners: number;
  /** Loopback ports bound once and released: connecting is refused. */
  refusedPorts: number;
  sshServers: number;
  snmpAgents: number;
  /** UDP ports nobody reads: SNMP and DNS requests go unanswered. */
  silentUdpPorts: number;
  /** DNS servers (a dns-packet responder) answering every A query. */
  dnsServers: number;
}

export type FleetPorts = Record<'http' | 'tcp' | 'silent' | 'refused' | 'ssh' | 'snmp' | 'silentUdp' | 'dns', number[]>;

/** Credential ids the SSH and SNMP probes reference. */
export interface FleetCredentialIds {
  ssh: string;
  snmp: string;
}

export interface PlannedHost {
  name: string;
  type: BenchProbeType;
  behaviour: Behaviour;
  /** The probe as POST /api/hosts takes it. */
  probe: Record<string, unknown>;
}

export const LOOPBACK = '127.0.0.1';

/** Exact counts (largest remainder), shuffled with a fixed seed so every run has the same fleet. */
export function draftFleet(hosts: number, mix: ProbeMix, failingShare: number, slowShare: number): HostDraft[] {
  const byType = apportion(hosts, PROBE_TYPES.map((t) => mix[t]));
  const drafts: Omit<HostDraft, 'index'>[] = [];
  PROBE_TYPES.forEach((type, t) => {
    const n = byType[t]!;
    const failing = FAILING_KINDS[type].length === 0 ? 0 : Math.round(n * failingShare);
    const slow = type === 'http' ? Math.min(n - failing, Math.round(n * slowShare)) : 0;
    const kinds = FAILING_KINDS[type];
    apportion(failing, kinds.map(() => 1)).forEach((count, k) => push(drafts, type, kinds[k]!, count));
    push(drafts, type, 'slow', slow);
    push(drafts, type, 'ok', n - failing - slow);
  });
  return shuffle(drafts, 42).map((d, index) => ({ ...d, index }));
}

function push(into: Omit<HostDraft, 'index'>[], type: BenchProbeType, behaviour: Behaviour, count: number): void {
  for (let i = 0; i < count; i++) into.push({ type, behaviour });
}

/** Splits `total` in proportion to `weights`, summing exactly to `total`. */
export function apportion(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= 0) return weights.map(() => 0);
  const exact = weights.map((w) => (total * w) / sum);
  const counts = exact.map(Math.floor);
  const byRemainder = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r);
  const missing = total - counts.reduce((a, b) => a + b, 0);
  for (let k = 0; k < missing; k++) counts[byRemainder[k]!.i]!++;
  return counts;
}

/** Which port group a draft's target lives in. */
function portGroup(d: Pick<HostDraft, 'type' | 'behaviour'>): keyof FleetPorts | null {
  if (d.type === 'icmp') return null; // pings the host address: no port
  if (d.behaviour === 'refused') return 'refused';
  if (d.behaviour === 'hang') return d.type === 'snmp' || d.type === 'dns' ? 'silentUdp' : 'silent';
  return d.type === 'http' ? 'http' : d.type;
}

/** A few hundred listeners for 10,000 hosts: about 40 hosts per HTTP/TCP port, 100 per SSH/SNMP server. */
export function layoutFor(drafts: HostDraft[]): FleetLayout {
  const count = (group: keyof FleetPorts) => drafts.filter((d) => portGroup(d) === group).length;
  const servers = (hosts: number, perServer: number, max: number) => (hosts === 0 ? 0 : Math.min(max, Math.ceil(hosts / perServer)));
  return {
    httpServers: servers(count('http'), 40, 300),
    tcpListeners: servers(count('tcp'), 40, 100),
    silentListeners: servers(count('silent'), 40, 50),
    refusedPorts: servers(count('refused'), 40, 50),
    sshServers: servers(count('ssh'), 100, 4),
    snmpAgents: servers(count('snmp'), 100, 4),
    silentUdpPorts: servers(count('silentUdp'), 100, 10),
    dnsServers: servers(count('dns'), 100, 4),
  };
}

/** Every host's name and probe, spread round-robin over its group's ports (so hosts differ by port and path). */
export function planHosts(drafts: HostDraft[], ports: FleetPorts, credentials: FleetCredentialIds): PlannedHost[] {
  const seen: Record<string, number> = {};
  return drafts.map((d) => {
    const group = portGroup(d);
    if (group === null) return { name: `bench-${d.type}-${d.behaviour}-${d.index}`, type: d.type, behaviour: d.behaviour, probe: probeFor(d, 0, credentials) };
    const nth = (seen[group] = (seen[group] ?? -1) + 1);
    const list = ports[group];
    if (list.length === 0) throw new Error(`the fleet opened no ${group} ports for ${d.type}/${d.behaviour} hosts`);
    const port = list[nth % list.length]!;
    return { name: `bench-${d.type}-${d.behaviour}-${d.index}`, type: d.type, behaviour: d.behaviour, probe: probeFor(d, port, credentials) };
  });
}

const HTTP_PATHS: Partial<Record<Behaviour, string>> = { ok: 'ok', slow: 'slow', http_500: 'fail', hang: 'hang', refused: 'refused' };

function probeFor(d: HostDraft, port: number, credentials: FleetCredentialIds): Record<string, unknown> {
  switch (d.type) {
    case 'http':
      return { type: 'http', url: `http://${LOOPBACK}:${port}/${HTTP_PATHS[d.behaviour]}/${d.index}` };
    case 'tcp':
      return { type: 'tcp', port };
    case 'ssh':
      return { type: 'ssh', port, credential_id: credentials.ssh };
    case 'snmp':
      return { type: 'snmp', version: '2c', port, credential_id: credentials.snmp };
    case 'dns':
      return { type: 'dns', port, name: `host-${d.index}.bench.test`, record_type: 'A' };
    case 'icmp':
      return { type: 'icmp', count: 1 };
  }
}

/** Counts by a key, every key present. */
export function countBy<T, K extends string>(items: readonly T[], keyOf: (item: T) => K, keys: readonly K[]): Record<K, number> {
  const counts = Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
  for (const item of items) counts[keyOf(item)]++;
  return counts;
}

/** Fisher-Yates with mulberry32: deterministic, so runs compare. */
function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
