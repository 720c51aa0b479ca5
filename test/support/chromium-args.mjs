// Debian's Chromium flags for tests and benchmarks: headless quiet, a fake microphone and camera,
// and loopback ICE candidates allowed (without them Chromium gathers none on `lo`). Plain
// JavaScript so that the benchmarks (.mjs) and the tests (TypeScript) share one list.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
];
