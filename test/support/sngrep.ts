import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeUdpPort } from '../../packages/gateway/test/support/loopback-ports.mjs';

/** One packet of a pcap file: its IPv4 addresses, ports, transport and payload. */
export interface PcapPacket {
  src: string;
  dst: string;
  protocol: 'UDP' | 'TCP';
  payload: string;
}

/** The IPv4 UDP and TCP packets of a classic pcap file (Ethernet or raw IP records). */
export function readPcap(file: Buffer): PcapPacket[] {
  const linkType = file.readUInt32LE(20);
  const packets: PcapPacket[] = [];
  for (let at = 24; at + 16 <= file.length; ) {
    const length = file.readUInt32LE(at + 8);
    const record = file.subarray(at + 16, at + 16 + length);
    at += 16 + length;
    const ip = linkType === 1 ? record.subarray(14) : record;
    if (ip.readUInt8(0) >> 4 !== 4) continue;
    const headerLength = (ip.readUInt8(0) & 0x0f) * 4;
    const protocol = ip.readUInt8(9);
    const segment = ip.subarray(headerLength, ip.readUInt16BE(2));
    const address = (o: number) => [...ip.subarray(o, o + 4)].join('.');
    const ports = (o: number) => `:${segment.readUInt16BE(o)}`;
    if (protocol !== 6 && protocol !== 17) continue;
    const payloadAt = protocol === 17 ? 8 : (segment.readUInt8(12) >> 4) * 4;
    packets.push({
      src: address(12) + ports(0),
      dst: address(16) + ports(2),
      protocol: protocol === 17 ? 'UDP' : 'TCP',
      payload: segment.subarray(payloadAt).toString(),
    });
  }
  return packets;
}

export interface RunningSngrep {
  /** Where HEP goes: `udp:127.0.0.1:<port>` (HEP_URL), and `127.0.0.1:<port>`. */
  url: string;
  address: string;
  /** Stops it (SIGINT, after the second it drops) and reads what it wrote; again, the same. */
  stop(): Promise<PcapPacket[]>;
}

/**
 * Debian's sngrep (1.6) as a HEP receiver without its interface: `sngrep -N -q -L udp:…
 * -O file.pcap` writes every packet it receives. It writes the file at SIGINT only, and leaves out
 * what came in the last second before it.
 */
export async function startSngrep(): Promise<RunningSngrep> {
  const port = await freeUdpPort();
  const file = join(mkdtempSync(join(tmpdir(), 'ringway-sngrep-')), 'capture.pcap');
  const child: ChildProcess = spawn('sngrep', ['-N', '-q', '-L', `udp:127.0.0.1:${port}`, '-O', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let stopped: Promise<PcapPacket[]> | undefined;
  // It binds at once; give it the moment it takes to start.
  await new Promise((resolve) => setTimeout(resolve, 500));
  if (child.exitCode !== null) throw new Error(`sngrep exited: ${log}`);
  return {
    url: `udp:127.0.0.1:${port}`,
    address: `127.0.0.1:${port}`,
    stop() {
      stopped ??= (async () => {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        child.kill('SIGINT');
        await exited;
        return readPcap(readFileSync(file));
      })();
      return stopped;
    },
  };
}
