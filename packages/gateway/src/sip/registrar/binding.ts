/** One registered contact of an address-of-record (RFC 3261 §10.3). */
export interface Binding {
  aor: string;
  /** The Contact URI as the client wrote it, without header parameters. */
  contact: string;
  /** Identity of the binding: +sip.instance and reg-id when given (RFC 5626 §6), else the contact URI. */
  key: string;
  flowId: string;
  expiresAt: number;
  callId: string;
  cseq: number;
  q?: number;
  userAgent?: string;
}
