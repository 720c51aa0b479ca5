import { $ } from './dom.js';
import { leavesField, SHORTCUTS, shortcutFor } from './keyboard-shortcuts.js';

/** Keyboard use of the page's main functions (keyboard-shortcuts.ts), listed on the page. */
export function wireShortcuts(): void {
  $('shortcut-list').replaceChildren(
    ...SHORTCUTS.map(({ key, does }) => {
      const item = document.createElement('li');
      const kbd = document.createElement('kbd');
      kbd.textContent = key;
      item.append(kbd, ` ${does}`);
      return item;
    }),
  );
  document.addEventListener('keydown', (event) => {
    const target = event.target as HTMLElement | null;
    const inTextField =
      target?.matches('input:not([type=checkbox]):not([type=radio]), textarea, select') ?? false;
    if (leavesField(event, inTextField)) {
      // An open <select> takes Escape to close its list before the page sees it.
      target?.blur();
      return;
    }
    const shortcut = shortcutFor(event, inTextField);
    const control = shortcut && document.getElementById(shortcut.control);
    // Only what can be seen and used now: a hidden Answer button answers nothing.
    if (
      !shortcut ||
      !control ||
      control.closest('[hidden]') ||
      !control.checkVisibility() ||
      (control as HTMLButtonElement).disabled
    )
      return;
    event.preventDefault();
    if (shortcut.focus) control.focus();
    else control.click();
  });
}
