import { $, show } from './dom.js';
import { attempt } from './error-banner.js';
import { page } from './page-state.js';

/** HTMLMediaElement.setSinkId and MediaDevices.selectAudioOutput (Audio Output Devices API): not in every browser, nor in every DOM typing. */
type SinkableAudio = HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> };
type OutputChooser = MediaDevices & { selectAudioOutput?: () => Promise<MediaDeviceInfo> };

/** How the page lets a person pick the speaker, from what the browser has. */
export type SpeakerPicker = 'list' | 'choose' | 'none';

/**
 * - no `setSinkId` (Safari today): the page cannot send sound elsewhere: no picker at all.
 * - outputs listed (Chromium; Firefox once the microphone is granted): a list.
 * - none listed but `selectAudioOutput` (Firefox before it exposes them): a button that asks the
 *   browser for one; what the person picks is then listed.
 */
export function speakerPicker(
  browser: { setSinkId: boolean; selectAudioOutput: boolean },
  outputs: number,
): SpeakerPicker {
  if (!browser.setSinkId) return 'none';
  return outputs === 0 && browser.selectAudioOutput ? 'choose' : 'list';
}

/** The speaker chosen through selectAudioOutput(), kept in the list whatever enumerateDevices says. */
let chosen: { deviceId: string; label: string } | undefined;

function playOn(deviceId: string): Promise<void> | undefined {
  return ($<HTMLAudioElement>('remote-audio') as SinkableAudio).setSinkId?.(deviceId);
}

/** The microphone and speaker pickers: the browser's devices, unnamed ones numbered; a choice stays while its device is there. */
export async function listDevices(): Promise<void> {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const options = (kind: MediaDeviceKind, name: string) =>
    devices
      .filter((d) => d.kind === kind)
      .map((d, i) => new Option(d.label || `${name} ${i + 1}`, d.deviceId));
  const input = $<HTMLSelectElement>('input-device');
  const inputChoice = input.value;
  input.replaceChildren(...options('audioinput', 'microphone'));
  if (inputChoice) input.value = inputChoice;
  input.onchange = () => void attempt('microphone', () => page.phone?.useMicrophone(input.value));
  const output = $<HTMLSelectElement>('output-device');
  const outputChoice = output.value;
  const outputs = options('audiooutput', 'speaker');
  if (chosen && !outputs.some((o) => o.value === chosen?.deviceId))
    outputs.push(new Option(chosen.label || 'chosen speaker', chosen.deviceId));
  output.replaceChildren(...outputs);
  if (outputChoice) output.value = outputChoice;
  // The ring (incoming.ts) reads the list's value when it starts; the call's sound follows here.
  output.onchange = () => void attempt('speaker', () => playOn(output.value));
  const picker = speakerPicker(
    {
      setSinkId: 'setSinkId' in HTMLMediaElement.prototype,
      selectAudioOutput: typeof (navigator.mediaDevices as OutputChooser).selectAudioOutput === 'function',
    },
    outputs.length,
  );
  $('speaker-picker').dataset.picker = picker;
  show('speaker-picker', picker !== 'none');
  show('output-label', picker === 'list');
  show('choose-speaker-button', picker === 'choose');
}

/** Asks the browser for a speaker (its own prompt); the one picked plays the ring and the calls. */
async function chooseSpeaker(): Promise<void> {
  const device = await (navigator.mediaDevices as OutputChooser).selectAudioOutput?.();
  if (!device) return;
  chosen = { deviceId: device.deviceId, label: device.label };
  await listDevices();
  $<HTMLSelectElement>('output-device').value = device.deviceId;
  await playOn(device.deviceId);
}

export function wireDevices(): void {
  // A device plugged in or out: the lists follow.
  navigator.mediaDevices?.addEventListener('devicechange', () => void listDevices());
  // selectAudioOutput() needs the click's user activation: called at once, not after an await.
  $('choose-speaker-button').addEventListener('click', () => void attempt('speaker', chooseSpeaker));
}
