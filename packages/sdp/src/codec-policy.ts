import { normaliseCodec } from './codec-key.js';
import { PolicyError } from './errors.js';
import { INTEROP_FIXES, type InteropFixName } from './interop-fixes.js';

/** Opus parameters written into the opus payload's fmtp line (RFC 7587 §6.1). */
export interface OpusParameters {
  /** In-band forward error correction. */
  useinbandfec?: boolean;
  /** Discontinuous transmission: send almost nothing in silence. */
  usedtx?: boolean;
  /** Average bitrate cap in bit/s, 6000–510000. */
  maxaveragebitrate?: number;
  /** Whether the receiver prefers stereo. */
  stereo?: boolean;
  /** Highest sample rate worth sending, 8000–48000 Hz. */
  maxplaybackrate?: number;
}

/** What a Ringway route accepts in SDP, as written in configuration. */
export interface CodecPolicy {
  /** Codecs in order of preference, e.g. `["opus/48000/2", "G722/8000", "PCMU/8000"]`. Codecs not listed keep their order after these. Default: no reordering. */
  preferences?: string[];
  /** Only these audio codecs may remain. Default: any not denied. */
  allow?: string[];
  /** These audio codecs are removed. Default: none. */
  deny?: string[];
  /** Keep RFC 4733 telephone-event at the clock rates of the remaining codecs. Default true. */
  telephoneEvent?: boolean;
  /** Keep comfort noise (CN) at the clock rates of the remaining codecs. Default true. */
  comfortNoise?: boolean;
  /** Opus fmtp parameters to set. Default: leave the offer's. */
  opus?: OpusParameters;
  /** `a=ptime` in ms. Default: leave as is. */
  ptime?: number;
  /** `a=maxptime` in ms. Default: leave as is. */
  maxptime?: number;
  /** Refuse video and application streams by setting their port to 0 (RFC 3264 §6), never deleting their m-line. Default true. */
  audioOnly?: boolean;
  /** Bandwidth of each audio stream: `b=AS` in kbit/s and `b=TIAS` in bit/s. Default: leave as is. */
  bandwidth?: { as?: number; tias?: number };
  /** Named interoperability fixes to apply (see interop-fixes.ts). Default none. */
  fixes?: InteropFixName[];
}

/** A validated policy with codec names normalised to `name/clock[/channels]` keys. */
export interface ResolvedPolicy {
  preferences: string[];
  allow: string[] | undefined;
  deny: string[];
  telephoneEvent: boolean;
  comfortNoise: boolean;
  opus: OpusParameters | undefined;
  ptime: number | undefined;
  maxptime: number | undefined;
  audioOnly: boolean;
  bandwidth: { as?: number; tias?: number } | undefined;
  fixes: InteropFixName[];
}

/** Integer ranges of numeric fields, as data. */
const RANGES: ReadonlyArray<[field: string, read: (p: CodecPolicy) => unknown, min: number, max: number]> = [
  ['ptime', (p) => p.ptime, 10, 120],
  ['maxptime', (p) => p.maxptime, 10, 120],
  ['opus.maxaveragebitrate', (p) => p.opus?.maxaveragebitrate, 6000, 510000],
  ['opus.maxplaybackrate', (p) => p.opus?.maxplaybackrate, 8000, 48000],
  ['bandwidth.as', (p) => p.bandwidth?.as, 1, 100000],
  ['bandwidth.tias', (p) => p.bandwidth?.tias, 1000, 100000000],
];

function codecList(field: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value))
    throw new PolicyError(field, `expected a list of codecs, got ${JSON.stringify(value)}`);
  return value.map((written, index) => {
    const key = typeof written === 'string' ? normaliseCodec(written) : undefined;
    if (!key)
      throw new PolicyError(
        `${field}[${index}]`,
        `"${String(written)}" is not a codec like "PCMU/8000" or "opus"`,
      );
    return key;
  });
}

function flag(field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    throw new PolicyError(field, `expected true or false, got ${JSON.stringify(value)}`);
  return value;
}

/** Validates a policy from configuration; throws PolicyError naming the first bad field. */
export function resolvePolicy(input: CodecPolicy): ResolvedPolicy {
  if (typeof input !== 'object' || input === null) throw new PolicyError('(policy)', 'expected an object');
  for (const [field, read, min, max] of RANGES) {
    const value = read(input);
    if (
      value !== undefined &&
      (!Number.isInteger(value) || (value as number) < min || (value as number) > max)
    ) {
      throw new PolicyError(field, `expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
  }
  for (const name of ['useinbandfec', 'usedtx', 'stereo'] as const)
    flag(`opus.${name}`, input.opus?.[name], false);
  const fixes = input.fixes ?? [];
  if (!Array.isArray(fixes)) throw new PolicyError('fixes', 'expected a list of fix names');
  fixes.forEach((fix, index) => {
    if (!Object.hasOwn(INTEROP_FIXES, fix)) {
      throw new PolicyError(
        `fixes[${index}]`,
        `unknown fix "${fix}"; known: ${Object.keys(INTEROP_FIXES).join(', ')}`,
      );
    }
  });
  const allow = codecList('allow', input.allow);
  if (allow?.length === 0) throw new PolicyError('allow', 'an empty allow list would refuse every call');
  return {
    preferences: codecList('preferences', input.preferences) ?? [],
    allow,
    deny: codecList('deny', input.deny) ?? [],
    telephoneEvent: flag('telephoneEvent', input.telephoneEvent, true),
    comfortNoise: flag('comfortNoise', input.comfortNoise, true),
    opus: input.opus,
    ptime: input.ptime,
    maxptime: input.maxptime,
    audioOnly: flag('audioOnly', input.audioOnly, true),
    bandwidth: input.bandwidth,
    fixes,
  };
}
