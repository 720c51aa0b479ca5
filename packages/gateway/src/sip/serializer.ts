import type { SipMessage } from './message.js';

/**
 * Serialises a message for a WebSocket frame. Content-Length is always written from the body's
 * byte length, whatever the message carried, so that a changed body can never be mislabelled.
 */
export function serializeSipMessage(message: SipMessage): string {
  const startLine =
    message.kind === 'request'
      ? `${message.method} ${message.uri} SIP/2.0`
      : `SIP/2.0 ${message.status} ${message.reason}`;
  let text = `${startLine}\r\n`;
  for (const field of message.headers) {
    if (field.name !== 'Content-Length') text += `${field.name}: ${field.value}\r\n`;
  }
  return `${text}Content-Length: ${Buffer.byteLength(message.body, 'utf8')}\r\n\r\n${message.body}`;
}
