/**
 * What a `sip:`, `sips:` or `tel:` link (handed to the page as `?dial=` by the browser's protocol
 * handler) asks to call, as the dial field takes it; undefined for anything else. A tel: number
 * loses its visual separators (RFC 3966 allows `-`, `.`, `(`, `)` and spaces in some forms) and
 * its parameters.
 */
export function dialLinkTarget(link: string): string | undefined {
  const text = link.trim();
  if (/^sips?:[^\s<>"]+$/i.test(text)) return text;
  const tel = /^tel:([^;]+)/i.exec(text);
  if (!tel) return undefined;
  const number = (tel[1] as string).replace(/[\s().-]/g, '');
  return /^\+?[0-9*#]+$/.test(number) ? number : undefined;
}

/** The page's own URL with `?dial=%s`, for navigator.registerProtocolHandler. */
export function linkHandlerUrl(location: { origin: string; pathname: string }): string {
  return `${location.origin}${location.pathname}?dial=%s`;
}
