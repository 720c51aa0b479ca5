export interface NodeConfigOptions {
  ip?: string;
  wsPort: number;
  udpPort: number;
  tlsPort?: number;
  tls?: { cert: string; key: string };
  sipDomain: string;
  secret: string;
  rtpengine?: string;
  registerMaxExpires?: number;
  pbx?: string;
  presence?: boolean;
  dmq?: { peers: string[]; notify: string };
  gateways?: string[];
  gatewayPingInterval?: number;
  gatewayTimeoutMs?: number;
  /** A HEP collector, `ip:port` (UDP): every SIP message mirrored there (-A WITH_HEP). */
  hep?: string;
  sharedMemoryMb?: number;
  privateMemoryMb?: number;
}
export declare function writeNodeConfig(options: NodeConfigOptions): { folder: string; args: string[] };
