import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

/** A self-signed certificate is made for a year and made again when less than a month is left. */
const VALID_DAYS = 365;
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

export interface KeyAndCertificate {
  key: string;
  cert: string;
}

/** Whether `cert` names every one of `names` (IP addresses and DNS names) and is good for a while yet. */
function covers(cert: X509Certificate, names: readonly string[], now: number): boolean {
  if (Date.parse(cert.validTo) - now < RENEW_BEFORE_MS) return false;
  return names.every((name) => (isIP(name) ? cert.checkIP(name) : cert.checkHost(name)) !== undefined);
}

/** What a TLS server's certificate says of itself: not a CA, for server authentication, valid for `names`. */
export function serverCertificateExtensions(names: readonly string[]) {
  return [
    { name: 'basicConstraints' as const, cA: false },
    { name: 'keyUsage' as const, digitalSignature: true, critical: true },
    { name: 'extKeyUsage' as const, serverAuth: true },
    {
      name: 'subjectAltName' as const,
      altNames: names.map((name) =>
        isIP(name) ? { type: 7 as const, ip: name } : { type: 2 as const, value: name },
      ),
    },
  ];
}

function writePrivately(path: string, text: string): void {
  const partial = `${path}.partial`;
  writeFileSync(partial, text, { mode: 0o600 });
  renameSync(partial, path);
}

/**
 * The gateway's own certificate for a first start without one: kept in `folder` (key.pem,
 * cert.pem) and reused across restarts while it names every one of `names` and has a month left;
 * otherwise a new P-256 key and certificate are made (selfsigned, on Node's WebCrypto). Nothing
 * here looks a name up: the names come from the configuration.
 */
export async function selfSignedCertificate(
  folder: string,
  names: readonly string[],
  now = Date.now(),
): Promise<KeyAndCertificate & { created: boolean }> {
  const keyPath = join(folder, 'key.pem');
  const certPath = join(folder, 'cert.pem');
  try {
    const kept = { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
    if (covers(new X509Certificate(kept.cert), names, now)) return { ...kept, created: false };
  } catch {
    // None yet, or unreadable: make one.
  }
  // Loaded only here: most starts reuse the kept certificate or have the operator's. A CommonJS
  // package: `default` is its exports wherever it is loaded from (the bundle names no others).
  const { generate } = (await import('selfsigned')).default;
  const notBeforeDate = new Date(now - 60_000);
  const made = await generate([{ name: 'commonName', value: names[0] ?? 'ringway' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(now + VALID_DAYS * 24 * 3600 * 1000),
    extensions: serverCertificateExtensions(names),
  });
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  writePrivately(keyPath, made.private);
  writePrivately(certPath, made.cert);
  return { key: made.private, cert: made.cert, created: true };
}
