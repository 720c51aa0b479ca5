import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import Fastify from 'fastify';
import { RequestLog } from '../src/http/request-log.js';

/** A Fastify app logging through RequestLog into an array, at `level`. */
async function appLoggingAt(level: 'info' | 'debug') {
  const lines: { level: number; msg: string; url?: string; status?: number }[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  const app = Fastify({ logger: { level, stream }, logController: new RequestLog() });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/broken', async () => {
    throw new Error('the handler failed');
  });
  await app.ready();
  return { app, lines };
}

describe('RequestLog', () => {
  it('writes no line for a request at info, and one at debug', async () => {
    const quiet = await appLoggingAt('info');
    await quiet.app.inject('/healthz');
    await quiet.app.inject('/favicon.ico');
    // The witness that logging works at all: a line written after the requests.
    quiet.app.log.info('after the requests');
    expect(quiet.lines.map((line) => line.msg)).toEqual(['after the requests']);

    const verbose = await appLoggingAt('debug');
    await verbose.app.inject('/healthz');
    expect(verbose.lines).toEqual([
      expect.objectContaining({ level: 20, msg: 'request', url: '/healthz', status: 200 }),
    ]);
  });

  it('still logs a request that failed at error level', async () => {
    const { app, lines } = await appLoggingAt('info');
    expect((await app.inject('/broken')).statusCode).toBe(500);
    expect(lines.filter((line) => line.level === 50).map((line) => line.msg)).toContain('the handler failed');
  });
});
