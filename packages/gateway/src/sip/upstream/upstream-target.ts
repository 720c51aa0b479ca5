/** How the gateway reaches its upstream SIP server: as written in Via (`SIP/2.0/<name>`). */
export type UpstreamTransportName = 'UDP' | 'TCP' | 'TLS' | 'WS';

export interface UpstreamTarget {
  transport: UpstreamTransportName;
  /** An IP literal: start-up resolves no name. */
  host: string;
  port: number;
  /** The HTTP path of a WebSocket upstream. */
  path: string;
  /** How a TLS upstream's certificate is verified (never skipped). */
  verify?: UpstreamVerification;
}

export interface UpstreamVerification {
  /** PEM CA certificates; Node's own CA store when absent. */
  ca?: string;
  /** The name the certificate must carry (also sent as SNI); the IP address when absent. */
  serverName?: string;
}

/** One upstream, without anchors: a WebSocket path stops at a comma, which separates nodes. */
const ONE_TARGET =
  '(?:(udp|tcp|tls):)?(\\d{1,3}(?:\\.\\d{1,3}){3}):(\\d{1,5})|ws:\\/\\/(\\d{1,3}(?:\\.\\d{1,3}){3}):(\\d{1,5})(\\/[^\\s,]*)?';
const TARGET = new RegExp(`^(?:${ONE_TARGET})$`);

/** The pattern UPSTREAM must match (also used by the configuration schema): one or more, comma-separated. */
export const UPSTREAM_PATTERN = `^(?:${ONE_TARGET})(?:,(?:${ONE_TARGET}))*$`;

/** `127.0.0.1:5060` or `udp:…` (UDP), `tcp:127.0.0.1:5060`, `tls:127.0.0.1:5061`, `ws://127.0.0.1:8080/path`. */
export function parseUpstreamTarget(text: string): UpstreamTarget {
  const match = TARGET.exec(text);
  if (!match)
    throw new TypeError(
      `"${text}" is not ip:port, udp:ip:port, tcp:ip:port, tls:ip:port or ws://ip:port/path`,
    );
  if (match[4]) return { transport: 'WS', host: match[4], port: Number(match[5]), path: match[6] ?? '/' };
  const transport = match[1] === 'tcp' ? 'TCP' : match[1] === 'tls' ? 'TLS' : 'UDP';
  return { transport, host: match[2] as string, port: Number(match[3]), path: '/' };
}

/**
 * UPSTREAM as a list of nodes tried in order. Several are taken over UDP only: a connection-
 * oriented upstream keeps one connection, and its failover is not built.
 */
export function parseUpstreamTargets(text: string): UpstreamTarget[] {
  const targets = text.split(',').map((one) => parseUpstreamTarget(one.trim()));
  if (targets.length > 1 && targets.some((target) => target.transport !== 'UDP'))
    throw new TypeError('several upstream nodes are supported over UDP only');
  return targets;
}
