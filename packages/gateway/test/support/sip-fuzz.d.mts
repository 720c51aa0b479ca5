export interface SeededRandom {
  next(): number;
  int(n: number): number;
  pick<T>(list: readonly T[]): T;
}
export function seededRandom(seed: number): SeededRandom;
export function fuzzMessage(
  r: SeededRandom,
  options: { domain: string; users: string[] },
): { text: string; mutations: string[] };
export interface FuzzResult {
  sent: number;
  /** Responses the fuzzing clients received, by status code. */
  answers: Record<string, number>;
  /** Requests the gateway passed to the fuzzing clients. */
  forwarded: number;
  reconnects: number;
  mutations: Record<string, number>;
}
export function runFuzz(options: {
  url: string;
  domain: string;
  count: number;
  seed?: number;
  connections?: number;
  batch?: number;
}): Promise<FuzzResult>;
