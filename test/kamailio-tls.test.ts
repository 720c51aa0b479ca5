import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type RunningGateway,
  startGateway,
  startUpstreamGateway,
} from '../packages/gateway/test/support/gateway.js';
import { RawSipClient, sipRequest } from '../packages/gateway/test/support/raw-sip-client.js';
import type { Phone } from '../packages/gateway/test/support/sipjs.js';
import { serverCertificate, testAuthority } from '../packages/gateway/test/support/test-certificates.js';
import { type CountingTcpProxy, countingTcpProxy } from './support/counting-tcp-proxy.js';
import { eventually } from './support/eventually.js';
import { type RunningKamailio, startKamailio } from './support/kamailio.js';
import { callAndHangUp, ephemeralPhone } from './support/kamailio-phones.js';

// Issue 14 §4: the gateway relays to Debian's Kamailio over SIP/TLS (kamailio-tls-modules),
// verifying Kamailio's certificate against a CA file and a configured name, and refuses an
// upstream whose certificate does not verify.
const SECRET = 'kamailio-tls-shared-secret-0123';
const ADMIN_TOKEN = 'operator-token-0123456789';
const KAMAILIO_NAME = 'kamailio.ringway.test';
const folder = mkdtempSync(join(tmpdir(), 'ringway-kamailio-tls-'));
const caFile = join(folder, 'ca.pem');
const strangerCaFile = join(folder, 'stranger-ca.pem');
let kamailio: RunningKamailio;
const phones: Phone[] = [];
const gateways: RunningGateway[] = [];
const proxies: CountingTcpProxy[] = [];

beforeAll(async () => {
  const authority = await testAuthority();
  writeFileSync(caFile, authority.cert);
  writeFileSync(strangerCaFile, (await testAuthority('Somebody else')).cert);
  kamailio = await startKamailio({
    secret: SECRET,
    sipDomain: 'ringway.test',
    tls: await serverCertificate([KAMAILIO_NAME], authority),
  });
}, 20_000);
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.stop().catch(() => undefined)));
  await Promise.all(gateways.splice(0).map((g) => g.close()));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});
afterAll(async () => {
  await kamailio?.stop();
});

async function phoneThrough(gateway: RunningGateway, user: string): Promise<Phone> {
  const made = await ephemeralPhone(gateway.wsUrl, SECRET, user);
  phones.push(made);
  return made;
}

const upstreamUp = (gateway: RunningGateway) => gateway.app.sip.upstream?.up;

describe('the gateway in front of Kamailio over SIP/TLS', () => {
  it('registers and calls through Kamailio’s TLS listener, and reconnects when Kamailio restarts', async () => {
    const gateway = await startUpstreamGateway(`tls:${kamailio.tls}`, {
      AUTH_SECRET: SECRET,
      ADMIN_TOKEN,
      UPSTREAM_CA_FILE: caFile,
      UPSTREAM_SERVER_NAME: KAMAILIO_NAME,
    });
    gateways.push(gateway);
    const judy = await phoneThrough(gateway, 'judy');
    const ken = await phoneThrough(gateway, 'ken');
    await callAndHangUp(judy, ken, 'ken');
    await callAndHangUp(ken, judy, 'judy');

    await kamailio.crashAndRestart();
    await eventually(
      () => upstreamUp(gateway),
      (up) => up === false,
      () => 'the gateway did not see Kamailio go',
    );
    await eventually(
      () => upstreamUp(gateway),
      (up) => up === true,
      () => 'the gateway did not reconnect over TLS',
    );
    for (const p of [judy, ken]) {
      await new Promise((resolve, reject) =>
        p.registerer.register({ requestDelegate: { onAccept: resolve, onReject: reject } }).catch(reject),
      );
    }
    await callAndHangUp(judy, ken, 'ken');
  }, 30_000);

  it.each([
    [
      'signed by a CA it was not told to trust',
      { UPSTREAM_CA_FILE: strangerCaFile, UPSTREAM_SERVER_NAME: KAMAILIO_NAME },
    ],
    ['for another name', { UPSTREAM_CA_FILE: caFile, UPSTREAM_SERVER_NAME: 'pbx.ringway.test' }],
  ])(
    'refuses Kamailio’s certificate when it is %s: clients get 503, the metric says down',
    async (_case, env) => {
      // Kamailio behind a relay that counts the gateway's attempts (TLS still end to end).
      const proxy = await countingTcpProxy(kamailio.tls as string);
      proxies.push(proxy);
      const gateway = await startGateway({
        UPSTREAM: `tls:${proxy.address}`,
        AUTH_SECRET: SECRET,
        ADMIN_TOKEN,
        ...env,
      });
      gateways.push(gateway);
      // Several attempts (100, 200, 400 ms apart): none of them may get through. The gateway opens
      // a connection again only after the previous one failed: a third one is the witness that two
      // were refused.
      await eventually(
        () => ({ attempts: proxy.connections(), up: upstreamUp(gateway) }),
        (now) => now.attempts >= 3 || now.up === true,
        (now) => `the gateway tried ${now.attempts} times and stopped; upstream up: ${now.up}`,
      );
      expect(upstreamUp(gateway)).toBe(false);
      const client = await RawSipClient.connect(gateway.wsUrl);
      try {
        client.send(
          sipRequest('REGISTER', 'sip:ringway.test', {
            from: 'sip:mallory@ringway.test',
            to: 'sip:mallory@ringway.test',
            extra: ['Contact: <sip:mallory@df7jal23ls0d.invalid;transport=ws>'],
          }),
        );
        await client.response(503);
      } finally {
        client.close();
      }
      const metrics = await gateway.app.inject({
        url: '/metrics',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(metrics.body).toContain('ringway_upstream_up 0');
    },
    20_000,
  );
});
