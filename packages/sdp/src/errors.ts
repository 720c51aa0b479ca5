/** A codec policy that cannot be used; the message names the field and what was expected. */
export class PolicyError extends Error {
  override name = 'PolicyError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`codec policy: ${field}: ${message}`);
  }
}

/**
 * The policy left no audio codec both sides can use. `offered` lists what the SDP carried,
 * `allowed` what the policy accepts, both as `name/clock[/channels]` keys.
 */
export class NoCommonCodecError extends Error {
  override name = 'NoCommonCodecError';
  constructor(
    readonly offered: readonly string[],
    readonly allowed: readonly string[],
  ) {
    super(
      `no common audio codec: offered ${offered.join(', ') || 'none'}; allowed ${allowed.join(', ') || 'none'}`,
    );
  }
}

/**
 * Text that is not a usable SDP (RFC 8866): no `v=` line first, an unreadable m-line, or an
 * answer that does not match its offer's m-lines. A request carrying it is the sender's mistake.
 */
export class InvalidSdpError extends TypeError {
  override name = 'InvalidSdpError';
}
