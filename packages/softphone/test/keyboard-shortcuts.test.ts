import { describe, expect, it } from '@jest/globals';
import { leavesField, SHORTCUTS, shortcutFor } from '../src/ui/keyboard-shortcuts.js';

const press = (key: string, modifiers: Partial<Record<'ctrlKey' | 'altKey' | 'metaKey', boolean>> = {}) => ({
  key,
  ctrlKey: false,
  altKey: false,
  metaKey: false,
  ...modifiers,
});

describe('keyboard shortcuts', () => {
  it('map single keys to the page’s controls, one control per key', () => {
    expect(shortcutFor(press('a'), false)?.control).toBe('answer-button');
    expect(shortcutFor(press('/'), false)).toMatchObject({ control: 'dial-input', focus: true });
    expect(new Set(SHORTCUTS.map((s) => s.key)).size).toBe(SHORTCUTS.length);
  });

  it('never take typing in a text field, or a key with Ctrl, Alt or Meta, for a command; Escape in a field leaves it, outside hangs up', () => {
    expect(shortcutFor(press('a'), true)).toBeUndefined();
    expect(shortcutFor(press('h', { ctrlKey: true }), false)).toBeUndefined();
    expect(shortcutFor(press('d', { altKey: true }), false)).toBeUndefined();
    expect(shortcutFor(press('Escape'), true)).toBeUndefined();
    expect(leavesField(press('Escape'), true)).toBe(true);
    expect(leavesField(press('Escape'), false)).toBe(false);
    expect(leavesField(press('a'), true)).toBe(false);
    expect(shortcutFor(press('Escape'), false)?.control).toBe('hangup-button');
    expect(shortcutFor(press('x'), false)).toBeUndefined();
  });
});
