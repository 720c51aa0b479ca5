export declare class PortTakenError extends Error {
  readonly protocol: 'tcp' | 'udp';
  readonly port: number;
}
export declare function assertPortFree(
  port: number,
  options?: { host?: string; protocol?: 'tcp' | 'udp' },
): Promise<void>;
