import { describe, expect, it } from '@jest/globals';
import { header } from '../src/sip/message.js';
import { startGateway } from './support/gateway.js';
import { freeUdpPort } from './support/loopback-ports.mjs';
import { RawSipClient, sipRequest } from './support/raw-sip-client.js';

describe('upstream mode', () => {
  it('answers 503 and reports the upstream down when it does not answer', async () => {
    const gateway = await startGateway({ UPSTREAM: `127.0.0.1:${await freeUdpPort()}` });
    const client = await RawSipClient.connect(gateway.wsUrl);
    try {
      client.send(sipRequest('REGISTER', 'sip:ringway.test', { extra: ['Contact: <sip:a@a.invalid>'] }));
      const refused = await client.response(503);
      expect(header(refused, 'Warning')).toMatch(/upstream SIP server does not answer/);
      expect((await gateway.app.inject({ url: '/metrics' })).body).toContain('ringway_upstream_up 0');
    } finally {
      client.close();
      await gateway.close();
    }
  });
});
