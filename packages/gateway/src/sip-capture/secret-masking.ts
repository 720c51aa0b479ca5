/**
 * What the call ladder and HEP export hide of a SIP message, as data (one rule per secret): a
 * captured call is shown to operators and sent to a capture server, neither of which needs the
 * values that let someone act as a party of it. Each value is replaced by as many `*`, so that
 * Content-Length stays true and the message still parses (Wireshark, sngrep, Homer).
 */
interface MaskRule {
  /** What the rule hides, for the reader. */
  secret: string;
  /** Where the secret is: in the header section, in the body (SDP), or either. */
  in: 'head' | 'body' | 'either';
  /** Matches `prefix` (group 1) and the value to hide (group 2); or, with `within`, the text to look in. */
  pattern: RegExp;
  /** Where one match holds several secrets (a header's parameters): applied inside each match. */
  within?: RegExp;
}

const MASK_RULES: readonly MaskRule[] = [
  {
    // RFC 3261 §22.4 / RFC 7616: the digest answer, and the nonce and cnonce it was computed over.
    secret: 'digest response, nonce and cnonce (Authorization, Proxy-Authorization, the challenges)',
    in: 'head',
    pattern: /^(?:Authorization|Proxy-Authorization|WWW-Authenticate|Proxy-Authenticate)[ \t]*:[^\r\n]*/gim,
    within: /(\b(?:response|nonce|cnonce)[ \t]*=[ \t]*"?)([^",\s]+)/gi,
  },
  {
    // calls/call-tokens.ts: the bearer token of a party's quality report.
    secret: 'call tokens (Ringway-Call-Token)',
    in: 'head',
    pattern: /^(Ringway-Call-Token[ \t]*:[ \t]*)([^\r\n]+)/gim,
  },
  {
    // sip/proxy/dialog-token.ts: the gateway's signature in its Record-Route, back in Route.
    secret: "the gateway's dialog tokens (;dlg= in Route, Record-Route and URIs)",
    in: 'head',
    pattern: /(;dlg=)([^;>,\s]+)/gi,
  },
  {
    // RFC 3261 §19.1.1 allows `sip:user:password@host` (and deprecates it).
    secret: 'passwords in SIP URIs',
    // A body may carry SIP too (message/sipfrag in a transfer's NOTIFY).
    in: 'either',
    pattern: /(\bsips?:[^:@\s;>]+:)([^@\s;>]+)(?=@)/gi,
  },
  {
    // RFC 8839 §5.4: knowing the ICE password lets a third party pass connectivity checks.
    secret: 'ICE passwords (a=ice-pwd)',
    in: 'body',
    pattern: /^(a=ice-pwd:)(\S+)/gim,
  },
  {
    // RFC 4568: SDES keys are the media's keys themselves.
    secret: 'SDES keys (a=crypto inline:)',
    in: 'body',
    pattern: /^(a=crypto:[^\r\n]*?inline:)([^|\s]+)/gim,
  },
];

const hide = (_match: string, prefix: string, value: string) => `${prefix}${'*'.repeat(value.length)}`;

// Every message of every call is masked as it is captured: each part is searched only for what
// can be in it (a header section is a third of an INVITE with its SDP: 3.5 → 2.7 µs for one with Chromium's offer).
const HEAD_RULES = MASK_RULES.filter((rule) => rule.in !== 'body');
const BODY_RULES = MASK_RULES.filter((rule) => rule.in !== 'head');

function maskWith(rules: readonly MaskRule[], text: string): string {
  let masked = text;
  for (const { pattern, within } of rules) {
    masked = within
      ? masked.replace(pattern, (match) => match.replace(within, hide))
      : masked.replace(pattern, hide);
  }
  return masked;
}

/** `text` with every secret of MASK_RULES replaced by `*` of the same length. */
export function maskSecrets(text: string): string {
  const bodyAt = text.indexOf('\r\n\r\n');
  // Without the blank line the parts cannot be told apart: every rule everywhere.
  if (bodyAt === -1) return maskWith(MASK_RULES, text);
  return maskWith(HEAD_RULES, text.slice(0, bodyAt)) + maskWith(BODY_RULES, text.slice(bodyAt));
}
