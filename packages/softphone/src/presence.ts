/**
 * What a contact's lamp shows, folded from the two event packages a phone watches: presence
 * (RFC 3856, PIDF: registered or not) and dialog (RFC 4235: ringing, on a call).
 */
export type ContactPresence = 'unknown' | 'offline' | 'online' | 'ringing' | 'on-call';

/** What picking up a call ringing for a contact takes: the call's identifiers and its caller. */
export interface RingingCall {
  callId: string;
  /** The tag of the contact's side of the early dialog (RFC 4235 local-tag). */
  calleeTag: string;
  /** The caller's tag (remote-tag). */
  callerTag: string;
  /** The caller's address, where the pickup INVITE goes. */
  caller: string;
}

/** One dialog of a dialog-info document: who started it and how far it got. */
export interface ContactDialog {
  direction: 'initiator' | 'recipient' | undefined;
  /** RFC 4235 §4.1.6: trying, proceeding, early, confirmed or terminated. */
  state: string;
  /** Present when the server gave what a pickup needs (a ringing call's identifiers). */
  ringing?: RingingCall;
}

/** What the NOTIFYs said so far; undefined until the first of that package arrived. */
export interface PresenceReport {
  online: boolean | undefined;
  dialogs: ContactDialog[] | undefined;
}

const RINGING_STATES = new Set(['trying', 'proceeding', 'early']);

/**
 * The lamp: a call answered (or one this contact is placing) is `on-call`; a call ringing for
 * them is `ringing`; otherwise their registration decides. A dialog proves they are reachable
 * even before (or without) a presence document.
 */
export function contactPresence({ online, dialogs = [] }: PresenceReport): ContactPresence {
  const live = dialogs.filter((d) => d.state !== 'terminated');
  if (live.some((d) => d.state === 'confirmed' || d.direction === 'initiator')) return 'on-call';
  if (live.some((d) => RINGING_STATES.has(d.state))) return 'ringing';
  if (online === undefined) return live.length > 0 ? 'online' : 'unknown';
  return online ? 'online' : 'offline';
}

/** Reads a document with the browser's own XML parser; undefined for an empty or broken body. */
function parseXml(body: string): Document | undefined {
  if (!body.trim()) return undefined;
  const document = new DOMParser().parseFromString(body, 'application/xml');
  return document.getElementsByTagName('parsererror').length > 0 ? undefined : document;
}

/**
 * Whether a PIDF document (RFC 3863) says the contact is reachable: any tuple `open`. An empty
 * body (a presence server with nothing published, as Kamailio sends) is offline.
 */
export function readPidf(body: string): boolean {
  const document = parseXml(body);
  if (!document) return false;
  return [...document.getElementsByTagNameNS('*', 'basic')].some(
    (basic) => basic.textContent?.trim() === 'open',
  );
}

/** The dialogs of a dialog-info document (RFC 4235 §4); an empty body means none. */
export function readDialogInfo(body: string): ContactDialog[] {
  const document = parseXml(body);
  if (!document) return [];
  return [...document.getElementsByTagNameNS('*', 'dialog')].map((dialog) => {
    const direction = dialog.getAttribute('direction');
    const callId = dialog.getAttribute('call-id');
    const calleeTag = dialog.getAttribute('local-tag');
    const callerTag = dialog.getAttribute('remote-tag');
    const remote = dialog.getElementsByTagNameNS('*', 'remote')[0];
    const caller = remote?.getElementsByTagNameNS('*', 'identity')[0]?.textContent?.trim();
    const state = dialog.getElementsByTagNameNS('*', 'state')[0]?.textContent?.trim() ?? 'terminated';
    const pickable = direction === 'recipient' && RINGING_STATES.has(state);
    return {
      direction: direction === 'initiator' || direction === 'recipient' ? direction : undefined,
      state,
      ...(pickable && callId && calleeTag && callerTag && caller
        ? { ringing: { callId, calleeTag, callerTag, caller } }
        : {}),
    };
  });
}

/** The call ringing for a contact that can be picked up, if the server said enough to do so. */
export function pickableCall(dialogs: ContactDialog[] | undefined): RingingCall | undefined {
  return dialogs?.find((d) => d.ringing)?.ringing;
}

/**
 * The Replaces header (RFC 3891) of a pickup: sent to the caller, whose own dialog has the caller's
 * tag as its local tag (to-tag) and the callee's as its remote one (from-tag); `early-only`, so
 * that a call answered meanwhile is not taken over.
 */
export function pickupReplaces(call: RingingCall): string {
  return `${call.callId};to-tag=${call.callerTag};from-tag=${call.calleeTag};early-only`;
}
