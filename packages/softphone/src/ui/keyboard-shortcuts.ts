/**
 * The page's keyboard shortcuts, as data: a key (KeyboardEvent.key), what it does, and the control
 * it presses (or focuses). They act only outside text fields and without Ctrl, Alt or Meta, so
 * that typing a number or a message is never taken for a command. Escape in a text field leaves
 * the field (leavesField): a person who presses it while writing a chat message means "stop
 * typing", not "hang up"; a second Escape, now outside the field, hangs up.
 */
export interface Shortcut {
  key: string;
  does: string;
  control: string;
  /** Focus the control instead of pressing it. */
  focus?: boolean;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { key: '/', does: 'go to the dial field (Enter dials)', control: 'dial-input', focus: true },
  { key: 'a', does: 'answer the ringing call', control: 'answer-button' },
  { key: 'd', does: 'decline the ringing call', control: 'decline-button' },
  { key: 'h', does: 'hang up', control: 'hangup-button' },
  { key: 'Escape', does: 'hang up (in a text field: leave the field first)', control: 'hangup-button' },
  { key: 'm', does: 'mute or unmute the microphone', control: 'mute-button' },
  { key: 'p', does: 'put on hold or resume', control: 'hold-button' },
];

/** The shortcut a key press asks for, if any, given whether it was typed in a text field. */
export function shortcutFor(
  event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'altKey' | 'metaKey'>,
  inTextField: boolean,
): Shortcut | undefined {
  if (event.ctrlKey || event.altKey || event.metaKey) return undefined;
  if (inTextField) return undefined;
  return SHORTCUTS.find((shortcut) => shortcut.key === event.key);
}

/** Whether a key press leaves the text field it was typed in (Escape, without modifiers). */
export function leavesField(
  event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'altKey' | 'metaKey'>,
  inTextField: boolean,
): boolean {
  return inTextField && event.key === 'Escape' && !event.ctrlKey && !event.altKey && !event.metaKey;
}
