/**
 * The arrows a call through the embedded gateway draws on the operator's ladder, as
 * `<from column>><to column> <label>` (0 caller, 1 gateway, 2 callee): answered at once, the
 * caller hangs up. Read by the API test and the page test alike.
 */
export const EMBEDDED_CALL_ARROWS = [
  '0>1 INVITE',
  '1>0 100 Trying',
  '1>2 INVITE',
  '2>1 180 Ringing',
  '1>0 180 Ringing',
  '2>1 200 OK',
  '1>0 200 OK',
  '0>1 ACK',
  '1>2 ACK',
  '0>1 BYE',
  '1>2 BYE',
] as const;
