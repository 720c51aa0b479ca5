/**
 * One AudioContext for the whole page (the ring tone and the level meters), resumed on the
 * person's clicks and key presses until it runs. A context made outside a user gesture starts
 * suspended — Safari keeps it so, and a ring made anew for each incoming call (no gesture then)
 * would be silent — and each context costs an audio thread: a call used to make two more for its
 * meters.
 */
let context: AudioContext | undefined;

export function pageAudioContext(): AudioContext {
  context ??= new AudioContext();
  return context;
}

/** From now on, a click or key press resumes the page's context while it is not running. */
export function resumeAudioOnGesture(): void {
  const resume = () => {
    const audio = pageAudioContext();
    if (audio.state !== 'running') void audio.resume().catch(() => undefined);
  };
  for (const type of ['pointerdown', 'keydown'])
    window.addEventListener(type, resume, { capture: true, passive: true });
}
