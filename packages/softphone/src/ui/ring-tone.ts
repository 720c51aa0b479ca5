import { pageAudioContext } from './page-audio.js';

/** HTMLMediaElement.setSinkId (Audio Output Devices API): Chromium and Firefox, not every DOM typing. */
type SinkableAudio = HTMLAudioElement & { setSinkId?: (id: string) => Promise<void>; sinkId?: string };

/**
 * The ring of an incoming call, synthesised with Web Audio on the page's one AudioContext (a
 * 440 + 480 Hz North American ring, two seconds on, four off) so that the page ships no sound
 * file. It plays through an <audio> element on `outputDevice()`, the speaker the person chose, as
 * the call itself does: HTMLMediaElement.setSinkId exists where AudioContext.setSinkId does not
 * (Firefox).
 */
export function ringTone(outputDevice: () => string = () => ''): {
  start(): void;
  stop(): void;
  /** The device the ring plays on now ('' for the default), undefined while silent. */
  readonly sinkId: string | undefined;
} {
  let element: SinkableAudio | undefined;
  let output: MediaStreamAudioDestinationNode | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  const burst = () => {
    if (!output) return;
    const context = output.context;
    const gain = context.createGain();
    gain.gain.value = 0.05;
    gain.connect(output);
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
      const context = pageAudioContext();
      void context.resume().catch(() => undefined);
      output = context.createMediaStreamDestination();
      element = new Audio() as SinkableAudio;
      element.srcObject = output.stream;
      const device = outputDevice();
      if (device) void element.setSinkId?.(device).catch(() => undefined);
      void element.play().catch(() => undefined);
      burst();
      timer = setInterval(burst, 6000);
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
      element?.pause();
      if (element) element.srcObject = null;
      output?.disconnect();
      element = undefined;
      output = undefined;
    },
    get sinkId() {
      return element?.sinkId;
    },
  };
}
