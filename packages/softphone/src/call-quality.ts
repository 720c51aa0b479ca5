/**
 * A one-second sample of a call's media, read from RTCPeerConnection.getStats(), and an
 * estimated MOS from a simplified ITU-T G.107 E-model.
 */
export interface QualitySample {
  at: number;
  codec: string | undefined;
  rttMs: number | undefined;
  jitterMs: number | undefined;
  /** Packets lost over packets expected since the call started, in percent. */
  lossPercent: number;
  /** Received audio bitrate over the last interval, kbit/s. */
  bitrateKbps: number;
  packetsReceived: number;
  packetsSent: number;
  bytesReceived: number;
  bytesSent: number;
  /** Energy of the microphone's audio so far (getStats media-source totalAudioEnergy); 0 is silence. */
  inputEnergy: number | undefined;
  /** Energy of the received audio played so far (inbound-rtp totalAudioEnergy). */
  outputEnergy: number | undefined;
  mos: number;
}

/** Equipment impairment (Ie) and packet-loss robustness (Bpl) per codec (ITU-T G.113 Appendix I, rounded). */
const CODEC_IMPAIRMENT: Readonly<Record<string, [ie: number, bpl: number]>> = {
  'audio/PCMU': [0, 25.1],
  'audio/PCMA': [0, 25.1],
  'audio/G722': [0, 20],
  'audio/opus': [0, 30],
};
const DEFAULT_IMPAIRMENT: [number, number] = [10, 20];

/** Estimated MOS (1–4.5) from round-trip time, jitter, loss and codec. */
export function estimateMos(sample: {
  rttMs?: number;
  jitterMs?: number;
  lossPercent: number;
  codec?: string;
}): number {
  // One-way delay: half the round trip, plus a jitter buffer of about twice the jitter, plus 10 ms of codec delay.
  const delay = (sample.rttMs ?? 0) / 2 + 2 * (sample.jitterMs ?? 0) + 10;
  const id = 0.024 * delay + (delay > 177.3 ? 0.11 * (delay - 177.3) : 0);
  const [ie, bpl] = CODEC_IMPAIRMENT[sample.codec ?? ''] ?? DEFAULT_IMPAIRMENT;
  const loss = Math.max(0, sample.lossPercent);
  const ieEff = ie + ((95 - ie) * loss) / (loss + bpl);
  const r = Math.max(0, Math.min(100, 93.2 - id - ieEff));
  const mos = 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
  return Math.round(Math.max(1, Math.min(4.5, mos)) * 100) / 100;
}

interface Previous {
  at: number;
  bytesReceived: number;
}

/** Reads one sample; `previous` gives the bitrate over the interval since it. */
export async function sampleQuality(pc: RTCPeerConnection, previous?: Previous): Promise<QualitySample> {
  const stats = await pc.getStats();
  let codec: string | undefined;
  let rttMs: number | undefined;
  let jitterMs: number | undefined;
  let packetsReceived = 0;
  let packetsLost = 0;
  let bytesReceived = 0;
  let bytesSent = 0;
  let packetsSent = 0;
  let inputEnergy: number | undefined;
  let outputEnergy: number | undefined;
  stats.forEach((report) => {
    if (report.type === 'inbound-rtp' && report.kind === 'audio') {
      packetsReceived += report.packetsReceived ?? 0;
      if (report.totalAudioEnergy !== undefined) outputEnergy = (outputEnergy ?? 0) + report.totalAudioEnergy;
      packetsLost += report.packetsLost ?? 0;
      bytesReceived += report.bytesReceived ?? 0;
      jitterMs = (report.jitter ?? 0) * 1000;
      codec = stats.get(report.codecId)?.mimeType ?? codec;
    } else if (report.type === 'outbound-rtp' && report.kind === 'audio') {
      bytesSent += report.bytesSent ?? 0;
      packetsSent += report.packetsSent ?? 0;
      codec ??= stats.get(report.codecId)?.mimeType;
    } else if (report.type === 'media-source' && report.kind === 'audio') {
      if (report.totalAudioEnergy !== undefined) inputEnergy = (inputEnergy ?? 0) + report.totalAudioEnergy;
    } else if (
      report.type === 'candidate-pair' &&
      report.nominated &&
      report.currentRoundTripTime !== undefined
    ) {
      rttMs = report.currentRoundTripTime * 1000;
    }
  });
  const at = Date.now();
  const expected = packetsReceived + packetsLost;
  const lossPercent = expected > 0 ? (100 * packetsLost) / expected : 0;
  const seconds = previous ? (at - previous.at) / 1000 : 0;
  const bitrateKbps =
    previous && seconds > 0 ? ((bytesReceived - previous.bytesReceived) * 8) / 1000 / seconds : 0;
  return {
    at,
    codec,
    rttMs,
    jitterMs,
    lossPercent,
    bitrateKbps: Math.round(bitrateKbps * 10) / 10,
    packetsReceived,
    packetsSent,
    bytesReceived,
    bytesSent,
    inputEnergy,
    outputEnergy,
    mos: estimateMos({ rttMs, jitterMs, lossPercent, codec }),
  };
}

/** What a whole call's samples say: averages over the samples that carried audio. */
export function summarizeQuality(samples: readonly QualitySample[]): {
  codec: string | undefined;
  rttMs: number | undefined;
  jitterMs: number | undefined;
  lossPercent: number;
  mos: number | undefined;
} {
  const heard = samples.filter((s) => s.packetsReceived > 0);
  const mean = (values: Array<number | undefined>) => {
    const known = values.filter((v): v is number => v !== undefined);
    return known.length
      ? Math.round((known.reduce((a, b) => a + b, 0) / known.length) * 100) / 100
      : undefined;
  };
  const last = heard[heard.length - 1];
  return {
    codec: last?.codec,
    rttMs: mean(heard.map((s) => s.rttMs)),
    jitterMs: mean(heard.map((s) => s.jitterMs)),
    // Loss is counted since the call began: the last sample has the whole call's.
    lossPercent: Math.round((last?.lossPercent ?? 0) * 100) / 100,
    mos: mean(heard.map((s) => s.mos)),
  };
}
