/** SNMP varbind values in JSON-safe form, for a probe result's detail. */
import { ObjectType } from 'net-snmp';
import type { Varbind } from 'net-snmp';

/** One value read, in JSON-safe form. */
export interface SnmpValue {
  /** net-snmp ObjectType name: OctetString, TimeTicks, Counter64... */
  type: string;
  value: string | number | boolean | null;
}

const PRINTABLE = /^[^\p{Cc}]*$/u;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function printableText(bytes: Buffer): string | null {
  try {
    const text = utf8.decode(bytes);
    return PRINTABLE.test(text.replace(/[\t\r\n]/g, '')) ? text : null;
  } catch {
    return null;
  }
}

/** A varbind's value in JSON-safe form: text when printable, else hex; Counter64 as decimal. */
export function toSnmpValue(varbind: Varbind): SnmpValue {
  const type = ObjectType[varbind.type] ?? `type${varbind.type}`;
  const raw = varbind.value;
  if (Buffer.isBuffer(raw)) {
    if (varbind.type === ObjectType.Counter64) {
      return { type, value: raw.length ? BigInt(`0x${raw.toString('hex')}`).toString() : '0' };
    }
    return { type, value: printableText(raw) ?? raw.toString('hex') };
  }
  if (typeof raw === 'bigint') return { type, value: raw.toString() };
  if (raw === null || raw === undefined) return { type, value: null };
  if (typeof raw === 'number' || typeof raw === 'string' || typeof raw === 'boolean') return { type, value: raw };
  return { type, value: String(raw) };
}
