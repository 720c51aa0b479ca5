import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

async function bundle(entry: string, globalName: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    globalName,
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}

/**
 * Serves a bare test page on loopback with real SIP.js, JsSIP, @ringway/sdp and Ringway's softphone
 * (bundled for the browser) and
 * a small driver (`browser-phone.js`) the tests call through `page.evaluate`.
 */
export async function startPhonePageServer(): Promise<{ url: string; close(): Promise<void> }> {
  const files: Record<string, string> = {
    '/sip.js': await bundle(join(dirname(require.resolve('sip.js')), 'index.js'), 'SIP'),
    '/jssip.js': await bundle(require.resolve('jssip'), 'JsSIP'),
    '/ringway-sdp.js': await bundle(
      join(here, '..', '..', 'packages', 'sdp', 'src', 'index.ts'),
      'RingwaySdp',
    ),
    '/ringway-softphone.js': await bundle(
      join(here, '..', '..', 'packages', 'softphone', 'src', 'index.ts'),
      'RingwaySoftphone',
    ),
    '/browser-phone.js': readFileSync(join(here, 'browser-phone.js'), 'utf8'),
    '/': '<!doctype html><meta charset="utf-8"><title>phone</title><script src="/sip.js"></script><script src="/jssip.js"></script><script src="/ringway-sdp.js"></script><script src="/ringway-softphone.js"></script><script src="/browser-phone.js"></script>',
  };
  const server: Server = createServer((req, res) => {
    const body = files[req.url ?? '/'];
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': req.url === '/' ? 'text/html' : 'text/javascript' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
