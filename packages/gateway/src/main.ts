// The gateway's entry as a plain ES module (dist/gateway.mjs): what start.sh runs when there is
// no start-up snapshot this node can load, and what tests spawn. snapshot-entry.ts is the other.
import { startGateway } from './start-gateway.js';

const fallback = process.env.RINGWAY_START_FALLBACK;
await startGateway(import.meta.url, { code: 'bundle', ...(fallback ? { fallback } : {}) });
