import { $, setText, show } from './dom.js';

/**
 * A page opened over plain HTTP from another machine gets no microphone (browsers allow it only in
 * a secure context), and every call would fail later without saying why: say it now instead.
 * Returns whether it refused.
 */
export function refuseInsecureContext(): boolean {
  if (window.isSecureContext) return false;
  const secure = new URL(location.href);
  secure.protocol = 'https:';
  setText('insecure-url', location.origin);
  const link = $<HTMLAnchorElement>('secure-url');
  link.href = secure.href;
  link.textContent = secure.origin;
  show('insecure-context', true);
  show('sign-in', false);
  return true;
}
