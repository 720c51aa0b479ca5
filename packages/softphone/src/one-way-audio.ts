/**
 * One-way audio, told from getStats() samples before anyone has to say "hello?": nothing (or
 * only silence) leaves while the microphone is on, or nothing (or only silence) arrives while
 * the far end is not on hold. A condition must last `afterMs` to warn, so a pause does not.
 */
export type MediaWarningKind = 'no-input' | 'no-output';

/** The likely cause, to point the user at the right thing. */
export type MediaWarningCause = 'microphone' | 'network' | 'remote';

export interface MediaWarning {
  kind: MediaWarningKind;
  cause: MediaWarningCause;
  text: string;
  /** When the condition began (epoch ms). */
  since: number;
}

/** What one sample says about the audio both ways; counters are totals since the call began. */
export interface MediaObservation {
  at: number;
  /** We should be sending audio: live, not muted, not on hold. */
  sending: boolean;
  /** The far end should be sending: live, and neither side has put the call on hold. */
  receiving: boolean;
  packetsSent: number;
  packetsReceived: number;
  /** Microphone energy (media-source totalAudioEnergy); undefined where the browser gives none. */
  inputEnergy: number | undefined;
  /** Energy of the audio played from the far end (inbound-rtp totalAudioEnergy). */
  outputEnergy: number | undefined;
}

/** Below this much energy per second the audio is digital silence, not a quiet room. */
const SILENCE = 1e-7;

const MESSAGES: Record<`${MediaWarningKind}/${MediaWarningCause}`, string> = {
  'no-input/microphone': 'no input: your microphone is silent (is it the right one, or muted by the system?)',
  'no-input/network': 'no input: no audio is being sent (the microphone track stopped)',
  'no-input/remote': 'no input',
  'no-output/network':
    'no output: no audio arrives from the far end (network path, or the far end stopped sending)',
  'no-output/remote': 'no output: the far end sends only silence (their microphone)',
  'no-output/microphone': 'no output',
};

export class OneWayAudioDetector {
  #previous: MediaObservation | undefined;
  readonly #since = new Map<MediaWarningKind, number>();
  readonly #active = new Map<MediaWarningKind, MediaWarning>();
  #heardOutput = false;

  constructor(private readonly afterMs = 3000) {}

  get active(): MediaWarning[] {
    return [...this.#active.values()];
  }

  /** Takes the next sample; returns the warnings it starts and the kinds it clears. */
  observe(now: MediaObservation): { started: MediaWarning[]; cleared: MediaWarningKind[] } {
    const before = this.#previous;
    this.#previous = now;
    if (!before) {
      this.#heardOutput = (now.outputEnergy ?? 0) > SILENCE;
      return { started: [], cleared: [] };
    }
    const seconds = Math.max(0.001, (now.at - before.at) / 1000);
    const delta = (a: number | undefined, b: number | undefined) =>
      a === undefined || b === undefined ? undefined : (a - b) / seconds;
    const inputEnergy = delta(now.inputEnergy, before.inputEnergy);
    const outputEnergy = delta(now.outputEnergy, before.outputEnergy);
    if (outputEnergy !== undefined && outputEnergy > SILENCE) this.#heardOutput = true;

    let input: MediaWarningCause | undefined;
    if (now.sending) {
      if (now.packetsSent === before.packetsSent) input = 'network';
      else if (inputEnergy !== undefined && inputEnergy <= SILENCE) input = 'microphone';
    }
    let output: MediaWarningCause | undefined;
    if (now.receiving) {
      if (now.packetsReceived === before.packetsReceived) output = 'network';
      // Only once this call's audio has been heard: a browser that does not play it out measures none.
      else if (this.#heardOutput && outputEnergy !== undefined && outputEnergy <= SILENCE) output = 'remote';
    }
    const started: MediaWarning[] = [];
    const cleared: MediaWarningKind[] = [];
    for (const [kind, cause] of [
      ['no-input', input],
      ['no-output', output],
    ] as const) {
      if (cause === undefined) {
        this.#since.delete(kind);
        if (this.#active.delete(kind)) cleared.push(kind);
        continue;
      }
      const since = this.#since.get(kind) ?? before.at;
      this.#since.set(kind, since);
      if (now.at - since >= this.afterMs && this.#active.get(kind)?.cause !== cause) {
        const warning = { kind, cause, text: MESSAGES[`${kind}/${cause}`], since };
        this.#active.set(kind, warning);
        started.push(warning);
      }
    }
    return { started, cleared };
  }
}
