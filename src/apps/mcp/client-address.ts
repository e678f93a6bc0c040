/**
 * Who a client is, for the limits per client: its remote address. An IPv4 address seen over IPv6
 * (`::ffff:a.b.c.d`) is itself. An IPv6 address counts by its /64 prefix: one host is routinely
 * given a whole /64 (SLAAC, privacy addresses), so limits by full address would give one host 2^64
 * clients' worth. (Hosts sharing a /64, like hosts behind one IPv4 NAT, share the limits.)
 */
import { isIPv6 } from 'node:net';

export function clientKey(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  if (address.startsWith('::ffff:') && !isIPv6(address.slice('::ffff:'.length))) return address.slice('::ffff:'.length);
  if (!isIPv6(address)) return address;
  return `${hextets(address).slice(0, 4).join(':')}::/64`;
}

/** The eight groups of an IPv6 address, `::` expanded, zone dropped, each without leading zeros. */
function hextets(address: string): string[] {
  const [bare = ''] = address.split('%');
  const [head = '', tail] = bare.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return groups.map((group) => (group.includes('.') ? group : Number.parseInt(group, 16).toString(16)));
}
