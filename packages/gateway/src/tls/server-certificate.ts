import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { GatewayConfig } from '../config/config-schema.js';
import { ConfigError, tlsSource } from '../config/load-config.js';
import { type KeyAndCertificate, selfSignedCertificate } from './self-signed-certificate.js';

/** TLS for the gateway's port: what Node's HTTPS server needs, and how to tell people about it. */
export interface ServerCertificate extends KeyAndCertificate {
  source: 'files' | 'self-signed';
  /** A sentence for the start-up log: which certificate, its fingerprints, how to replace it. */
  description: string;
}

/**
 * Cipher suites offered: forward secret (ECDHE) and authenticated encryption (GCM,
 * ChaCha20-Poly1305) only, as Mozilla's "intermediate" profile. Node's default list also takes,
 * over TLS 1.2, static-RSA key exchange (no forward secrecy: `AES128-SHA`, `AES256-GCM-SHA384`),
 * DHE, and CBC with SHA-1 or SHA-2 MACs (`ECDHE-RSA-AES128-SHA`, Lucky13-style padding oracles).
 * Every current browser offers one of these. The TLS 1.3 suites are Node's own (all AEAD and
 * forward secret); naming them here keeps them offered, since this string replaces Node's.
 */
export const FORWARD_SECRET_CIPHERS = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** Every TLS listener's settings (the page and `wss://`, and the context a renewal installs): TLS 1.2 and 1.3 only. */
export const SERVER_TLS_OPTIONS = { minVersion: 'TLSv1.2', ciphers: FORWARD_SECRET_CIPHERS } as const;

/** SHA-256 of the certificate, and of its public key (what Chromium's --ignore-certificate-errors-spki-list takes). */
export function fingerprints(cert: string): { sha256: string; spkiSha256: string } {
  const x509 = new X509Certificate(cert);
  const spki = x509.publicKey.export({ type: 'spki', format: 'der' });
  return { sha256: x509.fingerprint256, spkiSha256: createHash('sha256').update(spki).digest('base64') };
}

/** Reads the operator's certificate and key; a file that cannot be read or used stops start-up naming it. */
export function readCertificateFiles(certFile: string, keyFile: string): KeyAndCertificate {
  const read = (path: string, variable: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigError(`${variable}: cannot read ${path}: ${(error as Error).message}`);
    }
  };
  const pair = { cert: read(certFile, 'TLS_CERT_FILE'), key: read(keyFile, 'TLS_KEY_FILE') };
  try {
    createSecureContext({ ...pair, ...SERVER_TLS_OPTIONS });
  } catch (error) {
    throw new ConfigError(
      `TLS_CERT_FILE / TLS_KEY_FILE: ${certFile} and ${keyFile} are not a PEM certificate and its key: ${(error as Error).message}`,
    );
  }
  return pair;
}

/** The names a self-signed certificate is made for: every name and address the configuration gives this gateway. */
export function selfSignedNames(config: GatewayConfig): string[] {
  const wildcard = new Set(['0.0.0.0', '::']);
  const names = [
    config.publicHost,
    config.advertisedHost,
    config.sipDomain,
    config.host,
    '127.0.0.1',
    'localhost',
  ];
  return [
    ...new Set(
      names
        .filter((name): name is string => name !== undefined && !wildcard.has(name))
        .map((name) => name.replace(/^\[(.*)\]$/, '$1').toLowerCase()),
    ),
  ];
}

/**
 * The certificate the gateway serves HTTPS and `wss://` with: the operator's files, or its own
 * self-signed one when it listens beyond loopback without them; undefined for plain HTTP.
 */
export async function serverCertificate(config: GatewayConfig): Promise<ServerCertificate | undefined> {
  const source = tlsSource(config);
  if (source === 'off') return undefined;
  if (source === 'files') {
    const pair = readCertificateFiles(config.tls.certFile as string, config.tls.keyFile as string);
    const { sha256 } = fingerprints(pair.cert);
    return {
      ...pair,
      source,
      description: `HTTPS with ${config.tls.certFile} (SHA-256 ${sha256}); it is read again when it changes`,
    };
  }
  const names = selfSignedNames(config);
  const folder = config.tls.selfSignedDir;
  const made = await selfSignedCertificate(folder, names).catch((error: Error) => {
    throw new ConfigError(`TLS_SELF_SIGNED_DIR: cannot keep a certificate in ${folder}: ${error.message}`);
  });
  const { sha256, spkiSha256 } = fingerprints(made.cert);
  return {
    key: made.key,
    cert: made.cert,
    source,
    description:
      `HTTPS with a self-signed certificate ${made.created ? 'made now' : 'made before'} for ${names.join(', ')} ` +
      `(${folder}/cert.pem, SHA-256 ${sha256}, public key SHA-256 ${spkiSha256}): browsers warn until it is ` +
      'trusted; to use your own, set TLS_CERT_FILE and TLS_KEY_FILE',
  };
}
