/**
 * The page's keyboard shortcuts, as data: a key (KeyboardEvent.key), what it does, and the control
 * it presses (or focuses). They act only outside text fields and without Ctrl, Alt or Meta, so
 * that typing a number or a message is never taken for a command; Escape works everywhere.
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
  { key: 'Escape', does: 'hang up', control: 'hangup-button' },
  { key: 'm', does: 'mute or unmute the microphone', control: 'mute-button' },
  { key: 'p', does: 'put on hold or resume', control: 'hold-button' },
];

/** The shortcut a key press asks for, if any, given whether it was typed in a text field. */
export function shortcutFor(
  event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'altKey' | 'metaKey'>,
  inTextField: boolean,
): Shortcut | undefined {
  if (event.ctrlKey || event.altKey || event.metaKey) return undefined;
  if (inTextField && event.key !== 'Escape') return undefined;
  return SHORTCUTS.find((shortcut) => shortcut.key === event.key);
}
