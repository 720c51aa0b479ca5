import type { SipMessage } from './message.js';

/**
 * Serialises a message for a WebSocket frame. Content-Length is always written from the body's
 * byte length, whatever the message carried, so that a changed body can never be mislabelled.
 * Joined rather than concatenated: `join` writes one flat string, where `+=` builds a rope that
 * V8 copies flat again the first time it is read (by the socket's write, by the capture), a
 * second copy of every message the gateway sends.
 */
export function serializeSipMessage(message: SipMessage): string {
  const lines = [
    message.kind === 'request'
      ? `${message.method} ${message.uri} SIP/2.0`
      : `SIP/2.0 ${message.status} ${message.reason}`,
  ];
  for (const field of message.headers) {
    if (field.name !== 'Content-Length') lines.push(`${field.name}: ${field.value}`);
  }
  lines.push(`Content-Length: ${Buffer.byteLength(message.body, 'utf8')}`, '', message.body);
  return lines.join('\r\n');
}
