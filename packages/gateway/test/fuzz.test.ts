import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { runFuzz } from './support/sip-fuzz.mjs';
import { establishedCall, sipjsPhone } from './support/sipjs.js';

// Issue 11: a fuzz run sized for CI. `npm run fuzz -- --count 1000000` is the long run
// (bench/fuzz.mjs), with memory before and after.
const COUNT = Number(process.env.FUZZ_COUNT ?? 50_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);

let gateway: RunningGateway;
const usersFile = join(mkdtempSync(join(tmpdir(), 'ringway-')), 'users.json');
writeFileSync(usersFile, JSON.stringify({ fuzz0: 'fuzz-password' }));

const metric = async (name: string) => {
  const text = (await gateway.app.inject({ url: '/metrics' })).body;
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
};
const seriesCount = async () =>
  (await gateway.app.inject({ url: '/metrics' })).body.split('\n').filter((l) => l && !l.startsWith('#'))
    .length;

beforeAll(async () => {
  // Rate limits lifted (the fuzzer is many clients in one) and short timers, so the transaction
  // paths (timeouts, lingering) are exercised within the run.
  gateway = await startGateway({
    RATE_MESSAGES_PER_SECOND: '1000000',
    RATE_MESSAGE_BURST: '1000000',
    TRANSACTION_TIMEOUT_MS: '500',
    INVITE_TIMEOUT_MS: '500',
  });
});
afterAll(async () => {
  await gateway.close();
});

describe(`${COUNT} fuzzed SIP messages (seed ${SEED})`, () => {
  it('are each handled without a fault, keep the metrics bounded, and leave the gateway serving calls', async () => {
    const seriesBefore = await seriesCount();
    const result = await runFuzz({ url: gateway.wsUrl, domain: 'ringway.test', count: COUNT, seed: SEED });
    expect(result.sent).toBe(COUNT);
    // Every kind of answer a client's mistake can get, and none of a fault.
    expect(result.answers['400']).toBeGreaterThan(0);
    expect(result.forwarded).toBeGreaterThan(0);
    expect(await metric('ringway_sip_internal_errors_total')).toBe(0);
    expect(await metric('ringway_sip_parse_errors_total')).toBeGreaterThan(0);
    // Label values come from fixed sets, so the series have a ceiling whatever the wire says:
    // 16 kinds of message × 10 histogram lines, ~25 call statuses, a dozen codecs, a few reasons.
    expect((await seriesCount()) - seriesBefore).toBeLessThan(250);
    expect((await gateway.app.inject({ url: '/metrics' })).body).not.toMatch(/kind="X/);

    const alice = await sipjsPhone(gateway.wsUrl, 'alice');
    const bob = await sipjsPhone(gateway.wsUrl, 'bob');
    try {
      const { inviter } = await establishedCall(alice, bob, 'sip:bob@ringway.test');
      await inviter.bye();
    } finally {
      await Promise.all([alice.stop(), bob.stop()]);
    }
  }, 180_000);
});

describe('fuzzed SIP messages with authentication on', () => {
  it('get challenges and refusals, never a fault', async () => {
    const guarded = await startGateway({
      USERS_FILE: usersFile,
      ADMIN_TOKEN: 'operator-token-0123456789',
      RATE_MESSAGES_PER_SECOND: '1000000',
      RATE_MESSAGE_BURST: '1000000',
    });
    try {
      const result = await runFuzz({
        url: guarded.wsUrl,
        domain: 'ringway.test',
        count: COUNT / 5,
        seed: SEED + 1,
      });
      expect(result.answers['401']).toBeGreaterThan(0);
      expect(result.answers['407']).toBeGreaterThan(0);
      const metrics = await guarded.app.inject({
        url: '/metrics',
        headers: { authorization: 'Bearer operator-token-0123456789' },
      });
      expect(metrics.body).toMatch(/^ringway_sip_internal_errors_total 0$/m);
    } finally {
      await guarded.close();
    }
  }, 180_000);
});
