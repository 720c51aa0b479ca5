import { generate } from 'selfsigned';
import { serverCertificateExtensions } from '../../src/tls/self-signed-certificate.js';

export interface Pem {
  cert: string;
  key: string;
}

const DAY_MS = 24 * 3600 * 1000;

/** A certificate authority of the test's own, to sign servers' certificates with. */
export async function testAuthority(name = 'Ringway test CA'): Promise<Pem> {
  const made = await generate([{ name: 'commonName', value: name }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 30 * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  return { cert: made.cert, key: made.private };
}

/** A server certificate for `names` (IP addresses and DNS names), signed by `authority` or by itself. */
export async function serverCertificate(names: string[], authority?: Pem): Promise<Pem> {
  const made = await generate([{ name: 'commonName', value: names[0] ?? 'server' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 30 * DAY_MS),
    extensions: serverCertificateExtensions(names),
    ...(authority ? { ca: authority } : {}),
  });
  return { cert: made.cert, key: made.private };
}
