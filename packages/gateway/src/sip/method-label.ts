/**
 * Methods a metric label may name. Anything else a client writes becomes `other`: a label
 * taken from the wire would let anyone grow the label sets, and `/metrics` with them, for ever.
 */
const KNOWN_METHODS = new Set([
  'ACK',
  'BYE',
  'CANCEL',
  'INFO',
  'INVITE',
  'MESSAGE',
  'NOTIFY',
  'OPTIONS',
  'PRACK',
  'PUBLISH',
  'REFER',
  'REGISTER',
  'SUBSCRIBE',
  'UPDATE',
]);

export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'other';
}
