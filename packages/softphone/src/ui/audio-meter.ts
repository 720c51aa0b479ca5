import { pageAudioContext } from './page-audio.js';

/**
 * A level meter for one audio stream (the microphone, or the far end), so that a person sees at
 * once which side is silent. Web Audio's AnalyserNode on the page's one AudioContext, read ten
 * times a second: the level is the RMS of the latest samples, 0 (silence) to 1 (full scale).
 */
export class AudioMeter {
  readonly #source: MediaStreamAudioSourceNode;
  readonly #analyser: AnalyserNode;
  readonly #samples: Float32Array<ArrayBuffer>;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(
    readonly stream: MediaStream,
    onLevel: (level: number) => void,
  ) {
    const context = pageAudioContext();
    this.#analyser = context.createAnalyser();
    this.#analyser.fftSize = 1024;
    this.#samples = new Float32Array(this.#analyser.fftSize);
    this.#source = context.createMediaStreamSource(stream);
    this.#source.connect(this.#analyser);
    // A page opened without a click may have its context suspended: a try, and the next
    // gesture tries again (page-audio.ts).
    void context.resume().catch(() => undefined);
    this.#timer = setInterval(() => onLevel(this.level()), 100);
  }

  level(): number {
    this.#analyser.getFloatTimeDomainData(this.#samples);
    let sum = 0;
    for (const sample of this.#samples) sum += sample * sample;
    return Math.sqrt(sum / this.#samples.length);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#source.disconnect();
  }
}
