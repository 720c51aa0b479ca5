import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sdpTransform from 'sdp-transform';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

export function fixture(name: string): string {
  return readFileSync(join(fixtures, name), 'utf8');
}

export const FIXTURE_NAMES = readdirSync(fixtures).filter((f) => f.endsWith('.sdp'));

/** Lines of a type that must pass through the policy untouched. */
export function iceAndDtlsLines(sdp: string): string[] {
  return sdp
    .split(/\r?\n/)
    .filter((line) =>
      /^a=(candidate|ice-ufrag|ice-pwd|ice-options|fingerprint|setup|mid|rtcp-mux|end-of-candidates)/.test(
        line,
      ),
    );
}

/** Codec names of the first audio m-line, in order, as sdp-transform reads them. */
export function audioCodecs(sdp: string): string[] {
  const audio = sdpTransform.parse(sdp).media.find((m) => m.type === 'audio');
  if (!audio) return [];
  const order = String(audio.payloads ?? '').split(' ');
  return order.map((pt) => {
    const rtp = audio.rtp.find((r) => String(r.payload) === pt);
    return rtp ? `${rtp.codec}/${rtp.rate}` : `static ${pt}`;
  });
}
