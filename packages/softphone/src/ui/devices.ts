import { $ } from './dom.js';
import { attempt } from './error-banner.js';
import { page } from './page-state.js';

/** The microphone and speaker pickers: the browser's devices, unnamed ones numbered. */
export async function listDevices(): Promise<void> {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const options = (kind: MediaDeviceKind, name: string) =>
    devices
      .filter((d) => d.kind === kind)
      .map((d, i) => new Option(d.label || `${name} ${i + 1}`, d.deviceId));
  const input = $<HTMLSelectElement>('input-device');
  input.replaceChildren(...options('audioinput', 'microphone'));
  input.onchange = () => void attempt('microphone', () => page.phone?.useMicrophone(input.value));
  const output = $<HTMLSelectElement>('output-device');
  output.replaceChildren(...options('audiooutput', 'speaker'));
  output.onchange = () => {
    const audio = $<HTMLAudioElement>('remote-audio') as HTMLAudioElement & {
      setSinkId?: (id: string) => Promise<void>;
    };
    void attempt('speaker', () => audio.setSinkId?.(output.value));
  };
}

export function wireDevices(): void {
  // A device plugged in or out: the lists follow.
  navigator.mediaDevices?.addEventListener('devicechange', () => void listDevices());
}
