import { type StatsListener, unwatchFile, watchFile } from 'node:fs';
import type { Server } from 'node:tls';
import type { Logger } from '../sip/logger.js';
import { fingerprints, readCertificateFiles, SERVER_TLS_OPTIONS } from './server-certificate.js';

/** How often the certificate files are looked at: renewal is a matter of days, not seconds. */
const CHECK_INTERVAL_MS = 2000;
/** A renewal writes two files: wait for both before reading. */
const SETTLE_MS = 250;

/**
 * Serves a renewed certificate without a restart: when the certificate or key file changes, both
 * are read again and become the server's secure context for new connections. Open connections
 * (WebSockets, and so calls) keep the context they began with. A pair that does not go together
 * (read halfway through a renewal, or a mistake) is logged and the old one kept.
 * Returns a function that stops watching.
 */
export function reloadCertificateOnChange(
  server: Server,
  files: { certFile: string; keyFile: string },
  log: Logger,
  intervalMs = CHECK_INTERVAL_MS,
): () => void {
  let settle: NodeJS.Timeout | undefined;
  const reload = () => {
    try {
      const pair = readCertificateFiles(files.certFile, files.keyFile);
      server.setSecureContext({ ...pair, ...SERVER_TLS_OPTIONS });
      log.info({ sha256: fingerprints(pair.cert).sha256 }, 'TLS certificate reloaded');
    } catch (error) {
      log.warn(
        { err: error },
        'TLS certificate files changed but cannot be used; serving the previous certificate',
      );
    }
  };
  const changed: StatsListener = (now, before) => {
    if (now.mtimeMs === before.mtimeMs && now.ino === before.ino && now.size === before.size) return;
    clearTimeout(settle);
    settle = setTimeout(reload, SETTLE_MS);
  };
  const options = { interval: intervalMs, persistent: false };
  watchFile(files.certFile, options, changed);
  watchFile(files.keyFile, options, changed);
  return () => {
    clearTimeout(settle);
    unwatchFile(files.certFile, changed);
    unwatchFile(files.keyFile, changed);
  };
}
