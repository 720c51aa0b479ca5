import { existsSync, readFileSync } from 'node:fs';

/** A 16-bit mono PCM WAV of `seconds` of `sample(i)` (−32768…32767) at `rate` Hz. */
export function wavFile(
  seconds: number,
  sample: (index: number, rate: number) => number,
  rate = 8000,
): Buffer {
  const count = rate * seconds;
  const data = Buffer.alloc(count * 2);
  for (let i = 0; i < count; i++) data.writeInt16LE(Math.round(sample(i, rate)), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** A 440 Hz sine sample, for `wavFile`. */
export const tone440 = (i: number, rate: number) => 12_000 * Math.sin((2 * Math.PI * 440 * i) / rate);

/**
 * The peak absolute sample (0…32767) of a 16-bit PCM WAV a phone recorded (after its 44-byte
 * header): 0 is silence, or no file yet.
 */
export function wavPeak(path: string | undefined): number {
  if (!path || !existsSync(path)) return 0;
  const wav = readFileSync(path);
  let peak = 0;
  for (let i = 44; i + 1 < wav.length; i += 2) peak = Math.max(peak, Math.abs(wav.readInt16LE(i)));
  return peak;
}
