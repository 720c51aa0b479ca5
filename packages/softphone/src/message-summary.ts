/**
 * A mailbox's state as a message-summary NOTIFY tells it (RFC 3842): whether messages wait, how
 * many voice messages are new and old, and the account to call to hear them.
 */
export interface MessageSummary {
  waiting: boolean;
  newMessages: number;
  oldMessages: number;
  /** `Message-Account`: the address that plays the messages (e.g. Asterisk's `*97`), if given. */
  account: string | undefined;
}

/**
 * Reads a simple-message-summary body (RFC 3842 §5.2): header-like lines, case-insensitive.
 * Counts are those of the voice-message class (`Voice-Message: new/old (urgent new/urgent old)`);
 * a body without `Messages-Waiting` is not a summary (undefined).
 */
export function readMessageSummary(body: string): MessageSummary | undefined {
  const fields = new Map<string, string>();
  for (const line of body.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const waiting = fields.get('messages-waiting')?.toLowerCase();
  if (waiting !== 'yes' && waiting !== 'no') return undefined;
  const counts = /^(\d{1,6})\/(\d{1,6})/.exec(fields.get('voice-message') ?? '');
  return {
    waiting: waiting === 'yes',
    newMessages: counts ? Number(counts[1]) : 0,
    oldMessages: counts ? Number(counts[2]) : 0,
    account: fields.get('message-account') || undefined,
  };
}
