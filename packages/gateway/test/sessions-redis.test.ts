import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '../../../test/support/eventually.js';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { type RunningRedis, startRedis } from './support/redis.js';

let redis: RunningRedis;
let redisUrl: string;
const gateways: RunningGateway[] = [];

beforeAll(async () => {
  redis = await startRedis();
  redisUrl = redis.url;
  for (let i = 0; i < 2; i++) {
    const gateway = await startGateway({
      AUTH_SECRET: 'redis-shared-secret-0123456789',
      REDIS_URL: redisUrl,
      CALL_LINKS: 'anyone',
    });
    gateways.push(gateway);
    // The store connects once the gateway listens; ready means connected.
    await eventually(
      async () => (await gateway.app.inject({ url: '/readyz' })).statusCode,
      (status) => status === 200,
      (status) => `gateway ${i} not ready: ${status}`,
    );
  }
}, 20_000);

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  redis?.stop();
});

/** Reads the state changes of a session from one gateway's event stream. */
function follow(gateway: RunningGateway, id: string) {
  const states: string[] = [];
  const controller = new AbortController();
  const done = (async () => {
    const response = await fetch(`http://127.0.0.1:${gateway.port}/api/sessions/${id}/events`, {
      signal: controller.signal,
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) return;
      text += new TextDecoder().decode(value);
      const events = text.split('\n\n');
      text = events.pop() ?? '';
      for (const event of events) {
        const data = /^data: (.*)$/m.exec(event)?.[1];
        if (data) states.push(JSON.parse(data).state);
      }
    }
  })().catch(() => undefined);
  return {
    states,
    async until(count: number) {
      for (let i = 0; i < 200 && states.length < count; i++) await new Promise((r) => setTimeout(r, 25));
      return states;
    },
    stop: () => {
      controller.abort();
      return done;
    },
  };
}

describe('sessions shared by two gateways through Redis (redis-server from Debian)', () => {
  it('a session created on one gateway is joined on the other, and both see every event', async () => {
    const [a, b] = gateways as [RunningGateway, RunningGateway];
    const { id, code } = (await a.app.inject({ method: 'POST', url: '/api/sessions' })).json();
    const onA = follow(a, id);
    const onB = follow(b, id);
    await onA.until(1);
    await onB.until(1);
    const joined = await b.app.inject({ method: 'POST', url: `/api/sessions/${code}/join` });
    expect(joined.statusCode).toBe(200);
    expect((await a.app.inject({ method: 'POST', url: `/api/sessions/${code}/join` })).statusCode).toBe(409);
    expect((await a.app.inject({ method: 'DELETE', url: `/api/sessions/${id}` })).json().state).toBe('ended');
    expect(await onA.until(3)).toEqual(['waiting', 'ready', 'ended']);
    expect(await onB.until(3)).toEqual(['waiting', 'ready', 'ended']);
    expect((await b.app.inject({ method: 'POST', url: `/api/sessions/${code}/join` })).statusCode).toBe(410);
    await onA.stop();
    await onB.stop();
  });
});
