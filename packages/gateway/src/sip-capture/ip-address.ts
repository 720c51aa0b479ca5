import { isIPv4, isIPv6 } from 'node:net';

/** `::ffff:127.0.0.1` (an IPv4 client on a dual-stack socket) as `127.0.0.1`; others unchanged. */
export function plainAddress(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  return mapped?.[1] ?? ip;
}

/** The 4 bytes of an IPv4 address. */
export function ipv4Bytes(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

/** The 16 bytes of an IPv6 address (`::` expanded; an IPv4 address as `::ffff:a.b.c.d`). */
export function ipv6Bytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.concat([Buffer.alloc(10), Buffer.from([0xff, 0xff]), ipv4Bytes(ip)]);
  if (!isIPv6(ip)) return Buffer.alloc(16);
  let text = ip.replace(/%.*$/, '');
  // A trailing dotted quad (::ffff:1.2.3.4) as two groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [left, right] = text.split('::') as [string, string | undefined];
  const head = left ? left.split(':') : [];
  const tail = right ? right.split(':') : [];
  const groups = [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail];
  const bytes = Buffer.alloc(16);
  for (const [i, group] of groups.entries()) bytes.writeUInt16BE(Number.parseInt(group || '0', 16), i * 2);
  return bytes;
}

/** Both ends in one family: IPv4 when both are, else IPv6 (an IPv4 end mapped). */
export function familyOf(a: string, b: string): 4 | 6 {
  return isIPv4(a) && isIPv4(b) ? 4 : 6;
}
