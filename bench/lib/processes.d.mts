import type { ChildProcess, StdioOptions } from 'node:child_process';

export interface StartedServer {
  pid: number;
  startMs: number;
  stop(): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
}
export interface ProcessGroup {
  child: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
  stop(): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
}
export declare function spawnGroup(
  command: string,
  args: string[],
  options?: {
    env?: Record<string, string>;
    stdio?: StdioOptions;
    graceMs?: number;
  },
): ProcessGroup;
export declare function startServer(
  command: string,
  args: string[],
  options: { port: number; host?: string; udpPorts?: number[]; env?: Record<string, string> },
): Promise<StartedServer>;
export declare function startBusyCore(): ProcessGroup;
export declare function groupAlive(pgid: number): Promise<boolean>;
export declare function groupGone(pgid: number): Promise<void>;
export declare function memoryMb(pid: number): Promise<number>;
