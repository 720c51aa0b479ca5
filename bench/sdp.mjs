// npm run bench:sdp — applyToOffer with a realistic policy on Chromium's audio offer, against
// sdp-transform's parse + write of the same SDP, in the same run (alternating rounds).
import { readFileSync } from 'node:fs';
import sdpTransform from 'sdp-transform';
import { applyToOffer, resolvePolicy } from '../packages/sdp/dist/index.js';
import { median } from './lib/statistics.mjs';

const offer = readFileSync(
  new URL('../packages/sdp/test/fixtures/chromium-audio-offer.sdp', import.meta.url),
  'utf8',
);
const policy = resolvePolicy({
  preferences: ['opus/48000/2', 'G722/8000', 'PCMU/8000', 'PCMA/8000'],
  deny: ['G729/8000'],
  opus: { useinbandfec: true, usedtx: false, maxaveragebitrate: 40000 },
  ptime: 20,
  fixes: ['remove-extmap-allow-mixed'],
});

function opsPerSecond(run, ms) {
  let count = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) run();
    count += 100;
  }
  return count / (ms / 1000);
}

const anchor = () => sdpTransform.write(sdpTransform.parse(offer));
const ours = () => applyToOffer(offer, policy);
opsPerSecond(anchor, 500);
opsPerSecond(ours, 500);
const rounds = { anchor: [], ours: [] };
for (let round = 0; round < 5; round++) {
  rounds.anchor.push(opsPerSecond(anchor, 1000));
  rounds.ours.push(opsPerSecond(ours, 1000));
}
const a = median(rounds.anchor);
const o = median(rounds.ours);
console.log(`Chromium audio offer, ${offer.length} bytes; median of 5 alternating 1 s rounds`);
console.table({
  'sdp-transform parse + write (anchor)': { 'ops/s': Math.round(a) },
  'applyToOffer with a realistic policy': { 'ops/s': Math.round(o) },
});
console.log(`ratio applyToOffer / sdp-transform: ${(o / a).toFixed(2)}× (goal ≥ 1.0×)`);
