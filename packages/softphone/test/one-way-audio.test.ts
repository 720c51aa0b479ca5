import { describe, expect, it } from '@jest/globals';
import { type MediaObservation, OneWayAudioDetector } from '../src/one-way-audio.js';

/** One observation a second; each step says what moved in that second. */
function run(
  steps: Array<
    Partial<{
      sent: number;
      received: number;
      input: number;
      output: number;
      sending: boolean;
      receiving: boolean;
    }>
  >,
) {
  const detector = new OneWayAudioDetector(3000);
  const totals = { packetsSent: 0, packetsReceived: 0, inputEnergy: 0, outputEnergy: 0 };
  const events: string[] = [];
  steps.forEach((step, i) => {
    totals.packetsSent += step.sent ?? 50;
    totals.packetsReceived += step.received ?? 50;
    totals.inputEnergy += step.input ?? 0.01;
    totals.outputEnergy += step.output ?? 0.01;
    const observation: MediaObservation = {
      at: i * 1000,
      sending: step.sending ?? true,
      receiving: step.receiving ?? true,
      ...totals,
    };
    const { started, cleared } = detector.observe(observation);
    for (const w of started) events.push(`${i}: ${w.kind} (${w.cause})`);
    for (const kind of cleared) events.push(`${i}: ${kind} cleared`);
  });
  return { events, active: detector.active };
}

const healthy = {};

describe('one-way audio detection', () => {
  it('says nothing while audio flows both ways', () => {
    expect(run(Array(10).fill(healthy)).events).toEqual([]);
  });

  it('warns "no input" (microphone) after 3 s of a silent microphone, and clears when it speaks again', () => {
    const silent = { input: 0 };
    const { events } = run([healthy, silent, silent, silent, silent, healthy]);
    expect(events).toEqual(['3: no-input (microphone)', '5: no-input cleared']);
  });

  it('warns "no input" (network) when no packet leaves, and not while muted or on hold', () => {
    expect(run([healthy, { sent: 0 }, { sent: 0 }, { sent: 0 }, { sent: 0 }]).events).toEqual([
      '3: no-input (network)',
    ]);
    const muted = { sent: 50, input: 0, sending: false };
    expect(run([healthy, muted, muted, muted, muted, muted]).events).toEqual([]);
  });

  it('warns "no output" (network) when nothing arrives, not while the far end holds the call', () => {
    const nothing = { received: 0 };
    expect(run([healthy, nothing, nothing, nothing, nothing]).events).toEqual(['3: no-output (network)']);
    const held = { received: 0, receiving: false };
    expect(run([healthy, held, held, held, held, held]).events).toEqual([]);
  });

  it('warns "no output" (remote) for received silence only once this call has been heard', () => {
    const silence = { output: 0 };
    expect(run([healthy, silence, silence, silence, silence]).events).toEqual(['3: no-output (remote)']);
    // A browser that never measures played audio (energy stays 0 from the start) gets no false alarm.
    expect(run([silence, silence, silence, silence, silence, silence]).events).toEqual([]);
  });

  it('does not warn for a pause shorter than the threshold', () => {
    const silent = { input: 0 };
    expect(run([healthy, silent, silent, healthy, silent, silent, healthy]).events).toEqual([]);
  });
});
