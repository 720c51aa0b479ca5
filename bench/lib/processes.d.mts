export interface StartedServer {
  pid: number;
  startMs: number;
  stop(): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
}
export declare function startServer(
  command: string,
  args: string[],
  options: { port: number; host?: string; env?: Record<string, string> },
): Promise<StartedServer>;
export declare function memoryMb(pid: number): Promise<number>;
