import { recentlyRead } from './recently-read.js';

/**
 * The Via header (RFC 3261 §20.42, §18.2.1; rport per RFC 3581). Written by hand rather than with
 * SIP.js's grammar because that grammar drops a bare `rport` and the proxy must rewrite Vias
 * without losing parameters it does not know.
 */
export interface Via {
  readonly transport: string;
  readonly host: string;
  readonly port?: number;
  /** Parameters in their original order; a flag parameter has the value undefined. */
  readonly params: ReadonlyArray<readonly [name: string, value: string | undefined]>;
}

const VIA =
  /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9-]+)\s+(\[[0-9A-Fa-f:.]+\]|[^\s:;]+)(?::(\d+))?\s*((?:;.*)?)$/;

/** A Via value (one field: list headers are split when parsed). */
export const parseVia = recentlyRead(readVia, 4);

function readVia(value: string): Via | undefined {
  const match = VIA.exec(value.trim());
  if (!match) return undefined;
  return {
    transport: (match[1] as string).toUpperCase(),
    host: match[2] as string,
    ...(match[3] ? { port: Number(match[3]) } : {}),
    params: readParams(match[4] ?? ''),
  };
}

/**
 * `;name[=value]` parameters, read by position: splitting them into arrays of parts was most of
 * what reading a Via allocated, on every message (issue 28). A value runs to the next `;`, `=`
 * signs included.
 */
function readParams(text: string): Array<[name: string, value: string | undefined]> {
  const params: Array<[name: string, value: string | undefined]> = [];
  // The next `=` is looked for again only once passed: a run of flags is read in one scan.
  let equals = -1;
  for (let start = text.indexOf(';'); start !== -1; ) {
    const next = text.indexOf(';', start + 1);
    const end = next === -1 ? text.length : next;
    if (equals !== Number.POSITIVE_INFINITY && equals <= start) {
      const found = text.indexOf('=', start + 1);
      equals = found === -1 ? Number.POSITIVE_INFINITY : found;
    }
    const valued = equals < end;
    const name = text
      .slice(start + 1, valued ? equals : end)
      .trim()
      .toLowerCase();
    if (name) params.push([name, valued ? text.slice(equals + 1, end).trim() : undefined]);
    start = next;
  }
  return params;
}

export function formatVia(via: Via): string {
  const port = via.port === undefined ? '' : `:${via.port}`;
  const params = via.params.map(([name, value]) => (value === undefined ? `;${name}` : `;${name}=${value}`));
  return `SIP/2.0/${via.transport} ${via.host}${port}${params.join('')}`;
}

export function viaParam(via: Via, name: string): string | undefined {
  return via.params.find(([key]) => key === name)?.[1];
}

export function hasViaParam(via: Via, name: string): boolean {
  return via.params.some(([key]) => key === name);
}

/**
 * Records where a request really came from (RFC 3261 §18.2.1 received, RFC 3581 rport). A WS
 * client's sent-by is a made-up `.invalid` host, so received is always added.
 */
export function withSource(via: Via, address: string, port: number): Via {
  const params = via.params.filter(([key]) => key !== 'received' && key !== 'rport');
  params.push(['received', address]);
  if (hasViaParam(via, 'rport')) params.push(['rport', String(port)]);
  return { ...via, params };
}
