/**
 * The shipped template library: templates that work against Debian's snmpd (Net-SNMP) and a Linux
 * host over SSH. Installed through the API (POST /api/value-templates/library/{name}), then owned
 * by the operator like any other template. Each item is validated by the same schema as the API's.
 */
import type { TemplateInput } from './items.ts';
import { templateInputSchema } from './items.ts';

const IF_NAME = '1.3.6.1.2.1.31.1.1.1.1';
const IF_DESCR = '1.3.6.1.2.1.2.2.1.2';

const linuxSnmp = {
  name: 'linux-snmp',
  description: 'A Linux host through Net-SNMP (Debian snmpd): uptime, load, memory, CPU time, interface traffic and status',
  sys_object_ids: ['1.3.6.1.4.1.8072.3.2.10'],
  items: [
    { source: 'snmp', name: 'uptime', unit: 'seconds', oid: '1.3.6.1.2.1.1.3.0', scale: 0.01 },
    { source: 'snmp', name: 'load1', oid: '1.3.6.1.4.1.2021.10.1.5.1', scale: 0.01 },
    { source: 'snmp', name: 'load5', oid: '1.3.6.1.4.1.2021.10.1.5.2', scale: 0.01 },
    { source: 'snmp', name: 'load15', oid: '1.3.6.1.4.1.2021.10.1.5.3', scale: 0.01 },
    { source: 'snmp', name: 'memory_total', unit: 'bytes', oid: '1.3.6.1.4.1.2021.4.5.0', scale: 1024 },
    { source: 'snmp', name: 'memory_available', unit: 'bytes', oid: '1.3.6.1.4.1.2021.4.6.0', scale: 1024 },
    { source: 'snmp', name: 'cpu_user', unit: 'ticks', kind: 'counter', oid: '1.3.6.1.4.1.2021.11.50.0' },
    { source: 'snmp', name: 'cpu_system', unit: 'ticks', kind: 'counter', oid: '1.3.6.1.4.1.2021.11.52.0' },
    { source: 'snmp', name: 'cpu_idle', unit: 'ticks', kind: 'counter', oid: '1.3.6.1.4.1.2021.11.53.0' },
    { source: 'snmp', name: 'if_in', unit: 'bytes', kind: 'counter', column: '1.3.6.1.2.1.31.1.1.1.6', label_column: IF_NAME },
    { source: 'snmp', name: 'if_out', unit: 'bytes', kind: 'counter', column: '1.3.6.1.2.1.31.1.1.1.10', label_column: IF_NAME },
    { source: 'snmp', name: 'if_in_errors', kind: 'counter', column: '1.3.6.1.2.1.2.2.1.14', label_column: IF_DESCR },
    { source: 'snmp', name: 'if_oper_status', column: '1.3.6.1.2.1.2.2.1.8', label_column: IF_DESCR },
  ],
};

const linuxSsh = {
  name: 'linux-ssh',
  description: 'A Linux host over SSH (one session): uptime, load, memory and disk use per mount',
  sys_object_ids: [],
  items: [
    { source: 'ssh', name: 'uptime', unit: 'seconds', command: 'cat /proc/uptime', parser: { kind: 'regex', pattern: '^(\\d+(?:\\.\\d+)?)' } },
    { source: 'ssh', name: 'load1', command: 'cat /proc/loadavg', parser: { kind: 'regex', pattern: '^(\\S+)' } },
    { source: 'ssh', name: 'load5', command: 'cat /proc/loadavg', parser: { kind: 'regex', pattern: '^\\S+\\s+(\\S+)' } },
    { source: 'ssh', name: 'memory_total', unit: 'bytes', scale: 1024, command: 'cat /proc/meminfo', parser: { kind: 'key_value', key: 'MemTotal' } },
    { source: 'ssh', name: 'memory_available', unit: 'bytes', scale: 1024, command: 'cat /proc/meminfo', parser: { kind: 'key_value', key: 'MemAvailable' } },
    { source: 'ssh', name: 'disk_used', unit: 'percent', command: 'df --local --output=target,pcent', parser: { kind: 'key_value' }, threshold: { above: 95 } },
  ],
};

/** Every shipped template, parsed (defaults filled in) once at start. */
export const TEMPLATE_LIBRARY: ReadonlyMap<string, TemplateInput> = new Map(
  [linuxSnmp, linuxSsh].map((t) => [t.name, templateInputSchema.parse(t)] as const),
);
