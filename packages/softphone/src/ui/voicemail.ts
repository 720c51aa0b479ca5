import type { MessageSummary } from '../message-summary.js';

/** The words beside the voicemail button: "2 new, 1 old", "1 old", "no messages". */
export function voicemailWords({ newMessages, oldMessages }: MessageSummary): string {
  const parts = [
    ...(newMessages > 0 ? [`${newMessages} new`] : []),
    ...(oldMessages > 0 ? [`${oldMessages} old`] : []),
  ];
  return parts.length > 0 ? parts.join(', ') : 'no messages';
}
