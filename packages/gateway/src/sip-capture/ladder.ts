import type { CapturedCall } from './call-ring.js';
import { type CapturedMessage, type CaptureEndpoint, readHead } from './captured-message.js';
import { plainAddress } from './ip-address.js';

/** A participant of a call's ladder: a client's flow, the gateway (all its addresses), the upstream. */
export interface LadderColumn {
  role: CaptureEndpoint['role'];
  /** `ip:port` of each address it was seen at. */
  addresses: string[];
}

/** One message as an arrow between two columns. */
export interface LadderArrow {
  seq: number;
  from: number;
  to: number;
  /** ms after the call's first message. */
  offsetMs: number;
  label: string;
  cseq: string;
  transport: CapturedMessage['transport'];
  /** The message, masked. */
  text: string;
}

export interface Ladder {
  columns: LadderColumn[];
  arrows: LadderArrow[];
}

const address = (e: CaptureEndpoint) => `${plainAddress(e.ip)}:${e.port}`;
/** The gateway is one column whatever address it used (its WebSocket port, its upstream side). */
const columnKey = (e: CaptureEndpoint) => (e.role === 'gateway' ? 'gateway' : `${e.role} ${address(e)}`);

/**
 * The ladder of a call, as sngrep draws it: participants in order of first appearance, the
 * gateway second (after the caller's flow), each message an arrow with its time since the first.
 */
export function ladderOf(call: CapturedCall): Ladder {
  const order: string[] = [];
  const columns = new Map<string, LadderColumn>();
  const see = (endpoint: CaptureEndpoint) => {
    const key = columnKey(endpoint);
    let column = columns.get(key);
    if (!column) {
      column = { role: endpoint.role, addresses: [] };
      columns.set(key, column);
      order.push(key);
    }
    const at = address(endpoint);
    if (!column.addresses.includes(at)) column.addresses.push(at);
  };
  for (const message of call.messages) {
    see(message.src);
    see(message.dst);
  }
  const gateway = order.indexOf('gateway');
  if (gateway > 1) order.splice(1, 0, ...order.splice(gateway, 1));
  const index = new Map(order.map((key, i) => [key, i]));
  const first = call.messages[0]?.at ?? call.startedAt;
  return {
    columns: order.map((key) => columns.get(key) as LadderColumn),
    arrows: call.messages.map((m) => {
      // Masking keeps the start line and CSeq as they were (secret-masking.ts).
      const head = readHead(m.text);
      return {
        seq: m.seq,
        from: index.get(columnKey(m.src)) ?? 0,
        to: index.get(columnKey(m.dst)) ?? 0,
        offsetMs: Math.round((m.at - first) * 1000) / 1000,
        label: head?.label ?? '',
        cseq: head?.cseq ?? '',
        transport: m.transport,
        text: m.text,
      };
    }),
  };
}

const columnName = (c: LadderColumn) => `${c.role} ${c.addresses.join(' ')}`;

/** The ladder as plain text: a header, the participants, then each message whole, sngrep's way. */
export function ladderText(call: CapturedCall): string {
  const { columns, arrows } = ladderOf(call);
  const lines = [
    `Call-ID: ${call.callId}`,
    `Started: ${new Date(call.startedAt).toISOString()}`,
    `From: ${call.from ?? '?'}  To: ${call.to ?? '?'}  Outcome: ${call.outcome}${call.status ? ` (${call.status})` : ''}${call.setupMs === undefined ? '' : `  Setup: ${call.setupMs} ms`}${call.mos.length ? `  MOS: ${call.mos.join(', ')}` : ''}`,
    '',
    ...columns.map((c, i) => `[${i}] ${columnName(c)}`),
    '',
  ];
  for (const a of arrows) {
    const arrow = a.from <= a.to ? `[${a.from}] ---> [${a.to}]` : `[${a.to}] <--- [${a.from}]`;
    lines.push(`+${(a.offsetMs / 1000).toFixed(3)} s  ${arrow}  ${a.transport}  ${a.label}  (${a.cseq})`);
  }
  lines.push('');
  for (const a of arrows) {
    lines.push(
      `==== +${(a.offsetMs / 1000).toFixed(3)} s  ${columnName(columns[a.from] as LadderColumn)} -> ${columnName(columns[a.to] as LadderColumn)}`,
    );
    lines.push(a.text.replace(/\r\n/g, '\n').trimEnd(), '');
  }
  return `${lines.join('\n')}\n`;
}
