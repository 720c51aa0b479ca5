// The anchor of the REGISTER benchmarks: bench/kamailio-ws-registrar.cfg (a minimal Kamailio
// WebSocket registrar, no authentication) with its placeholders filled in for one run.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Writes the config for `workers` worker processes listening on `wsPort` (WebSocket), and on
 * `udpPort` (plain SIP, for a relay in front of it) when given; returns the file's path. `config`
 * names the file in bench/ (the registrar by default, kamailio-ws-proxy.cfg for calls).
 */
export function kamailioRegistrarConfig({ workers, wsPort, udpPort, config = 'kamailio-ws-registrar.cfg' }) {
  const listen = [`listen=tcp:127.0.0.1:${wsPort}`];
  if (udpPort) listen.push(`listen=udp:127.0.0.1:${udpPort}`);
  const text = readFileSync(join(here, '..', config), 'utf8')
    .replace(/^children=WORKERS$/m, `children=${workers}`)
    .replace(/^tcp_children=WORKERS$/m, `tcp_children=${workers}`)
    .replace(/^listen=LISTEN$/m, listen.join('\n'));
  const file = join(mkdtempSync(join(tmpdir(), 'ringway-bench-')), 'kamailio.cfg');
  writeFileSync(file, text);
  return file;
}
