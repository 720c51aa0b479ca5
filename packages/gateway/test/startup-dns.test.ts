import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { gatewayCommand } from '../../../bench/lib/gateway-process.mjs';

const here = dirname(fileURLToPath(import.meta.url));
// gatewayCommand: what `npm start` runs, the gateway from its start-up snapshot (`npm run build`).
const tripwire = join(here, 'support', 'dns-tripwire.mjs');

/**
 * Runs a node program with the DNS tripwire until `ready` appears on stdout, then (after
 * `whileUp`) stops it.
 */
function run(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  whileUp: (stdout: string) => Promise<void> = async () => {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tripwire, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    let stopping = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`not ready in time: ${stdout}${stderr}`));
    }, 10_000);
    child.stdout.on('data', (d) => {
      stdout += d;
      if (ready.test(stdout) && !stopping) {
        stopping = true;
        void whileUp(stdout).finally(() => child.kill('SIGTERM'));
      }
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolve({ stdout, stderr });
    });
  });
}

describe('start-up', () => {
  it('resolves no name, even with names in its configuration', async () => {
    const { stdout, stderr } = await run(
      gatewayCommand,
      { PORT: '0', SIP_DOMAIN: 'pbx.example.com', ADVERTISED_HOST: 'edge.example.com', LOG_LEVEL: 'info' },
      /SIP WebSocket at/,
    );
    expect(stdout).toMatch(/SIP WebSocket at ws:\/\/127\.0\.0\.1:\d+\/sip/);
    expect(stderr).not.toMatch(/DNS-TRIPWIRE/);
  });

  it('makes its self-signed certificate for the names in its configuration without resolving any', async () => {
    const { stdout, stderr } = await run(
      gatewayCommand,
      {
        PORT: '0',
        // The test namespace: only loopback and a link that leads nowhere.
        HOST: '0.0.0.0',
        AUTH_SECRET: 'startup-dns-secret-0123456789',
        SIP_DOMAIN: 'pbx.example.com',
        ADVERTISED_HOST: 'edge.example.com',
        TLS_SELF_SIGNED_DIR: mkdtempSync(join(tmpdir(), 'ringway-dns-tls-')),
        LOG_LEVEL: 'info',
      },
      /SIP WebSocket at/,
    );
    expect(stdout).toMatch(/self-signed certificate made now for edge\.example\.com, pbx\.example\.com/);
    expect(stdout).toMatch(/SIP WebSocket at wss:\/\/0\.0\.0\.0:\d+\/sip/);
    expect(stderr).not.toMatch(/DNS-TRIPWIRE/);
  });

  it('what npm start runs serves health, the page, the sessions API and the API docs', async () => {
    const statuses: number[] = [];
    await run(gatewayCommand, { PORT: '0', LOG_LEVEL: 'info' }, /SIP WebSocket at/, async (stdout) => {
      const port = /ws:\/\/127\.0\.0\.1:(\d+)\/sip/.exec(stdout)?.[1];
      for (const [method, path] of [
        ['GET', '/healthz'],
        ['GET', '/'],
        ['POST', '/api/sessions'],
        ['GET', '/docs/json'],
      ]) {
        statuses.push((await fetch(`http://127.0.0.1:${port}${path}`, { method })).status);
      }
    });
    expect(statuses).toEqual([200, 200, 201, 200]);
  });

  it('the tripwire catches a look-up of a name and the reverse look-up of an address', async () => {
    const { stderr } = await run(
      [
        '--input-type=module',
        '-e',
        "import { lookup, promises } from 'node:dns'; lookup('localhost', () => promises.reverse('127.0.0.1').catch(() => {}).finally(() => console.log('looked up')));",
      ],
      {},
      /looked up/,
    );
    expect(stderr).toMatch(/DNS-TRIPWIRE dns\.lookup "localhost"/);
    expect(stderr).toMatch(/DNS-TRIPWIRE dns\.promises\.reverse "127.0.0.1"/);
  });
});
