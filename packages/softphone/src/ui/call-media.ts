import type { Call } from '../index.js';
import { AudioMeter } from './audio-meter.js';
import { $ } from './dom.js';

type MeterId = 'mic-level' | 'far-level';

/** The level meters of the call on screen: this side's microphone and the far end. */
const meters: Partial<Record<MeterId, AudioMeter>> = {};

function meter(id: MeterId, stream: MediaStream | undefined): void {
  if (meters[id]?.stream === stream) return;
  meters[id]?.stop();
  delete meters[id];
  const element = $<HTMLMeterElement>(id);
  element.value = 0;
  if (!stream || stream.getAudioTracks().length === 0) return;
  let peak = 0;
  meters[id] = new AudioMeter(stream, (level) => {
    element.value = level;
    peak = Math.max(peak, level);
    // The loudest this call has been, for whoever checks that sound went through at all.
    element.dataset.peak = peak.toFixed(4);
  });
}

export function stopMeters(): void {
  meter('mic-level', undefined);
  meter('far-level', undefined);
}

/** The call's sound (and picture) on the page's elements, and its levels on the meters. */
export function attachMedia(call: Call): void {
  const stream = call.remoteStream;
  if (!stream) return;
  meter('mic-level', call.localStream);
  meter('far-level', stream);
  const audio = $<HTMLAudioElement>('remote-audio');
  if (audio.srcObject !== stream) audio.srcObject = stream;
  const video = $<HTMLVideoElement>('remote-video');
  video.hidden = !call.video;
  if (call.video && video.srcObject !== stream) video.srcObject = stream;
}
