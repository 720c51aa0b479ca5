/** Chromium's AudioContext.setSinkId (Audio Output Devices API), not yet in TypeScript's DOM types. */
type SinkableAudioContext = AudioContext & { setSinkId?: (id: string) => Promise<void>; sinkId?: string };

/**
 * The ring of an incoming call, synthesised with Web Audio (a 440 + 480 Hz North American ring,
 * two seconds on, four off) so that the page ships no sound file. It plays on `outputDevice()`,
 * the speaker the person chose, as the call itself does.
 */
export function ringTone(outputDevice: () => string = () => ''): {
  start(): void;
  stop(): void;
  /** The device the ring plays on now ('' for the default), undefined while silent. */
  readonly sinkId: string | undefined;
} {
  let context: SinkableAudioContext | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  const burst = () => {
    if (!context) return;
    const gain = context.createGain();
    gain.gain.value = 0.05;
    gain.connect(context.destination);
    for (const frequency of [440, 480]) {
      const oscillator = context.createOscillator();
      oscillator.frequency.value = frequency;
      oscillator.connect(gain);
      oscillator.start();
      oscillator.stop(context.currentTime + 2);
    }
  };
  return {
    start() {
      if (timer) return;
      context = new AudioContext() as SinkableAudioContext;
      const device = outputDevice();
      if (device) void context.setSinkId?.(device).catch(() => undefined);
      burst();
      timer = setInterval(burst, 6000);
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
      void context?.close();
      context = undefined;
    },
    get sinkId() {
      return context?.sinkId;
    },
  };
}
