import { $ } from './dom.js';

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

/** A phone's twelve keys in `containerId`; the dial pad (`key-…`) and the DTMF keypad (`dtmf-…`). */
export function keypad(containerId: string, onKey: (key: string) => void, testPrefix: 'key' | 'dtmf'): void {
  $(containerId).append(
    ...KEYS.map((key) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = key;
      button.dataset.testid = `${testPrefix}-${key === '*' ? 'star' : key === '#' ? 'hash' : key}`;
      button.setAttribute('aria-label', `${testPrefix === 'dtmf' ? 'Send DTMF' : 'Dial'} ${key}`);
      button.addEventListener('click', () => onKey(key));
      return button;
    }),
  );
}
