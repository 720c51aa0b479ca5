/**
 * The ring of an incoming call, synthesised with Web Audio (a 440 + 480 Hz North American ring,
 * two seconds on, four off) so that the page ships no sound file.
 */
export function ringTone(): { start(): void; stop(): void } {
  let context: AudioContext | undefined;
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
      context = new AudioContext();
      burst();
      timer = setInterval(burst, 6000);
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
      void context?.close();
      context = undefined;
    },
  };
}
