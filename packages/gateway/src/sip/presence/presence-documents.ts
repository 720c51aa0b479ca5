import { createHash } from 'node:crypto';
import type { UserPresence } from './presence-book.js';

/** The event packages the gateway serves, with the body each NOTIFY carries. */
export const EVENT_PACKAGES = {
  /** RFC 3856 with a PIDF body (RFC 3863): open while the user has a binding. */
  presence: { contentType: 'application/pidf+xml', render: pidf },
  /** RFC 4235: the user's calls, ringing (`early`) or answered (`confirmed`). */
  dialog: { contentType: 'application/dialog-info+xml', render: dialogInfo },
} as const satisfies Record<string, { contentType: string; render: (document: PresenceDocument) => string }>;

export type EventPackage = keyof typeof EVENT_PACKAGES;

export function isEventPackage(name: string): name is EventPackage {
  return Object.hasOwn(EVENT_PACKAGES, name);
}

export interface PresenceDocument {
  /** The watched user's address-of-record, `sip:user@domain`. */
  entity: string;
  presence: UserPresence;
  /** RFC 4235 §4.1.2: counts the documents sent on one subscription, from 0. */
  version: number;
}

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

function xml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] as string);
}

/** A PIDF document (RFC 3863) with one tuple; RPID's on-the-phone (RFC 4480) while on a call. */
function pidf({ entity, presence }: PresenceDocument): string {
  const basic = presence.online ? 'open' : 'closed';
  const onThePhone = presence.online && presence.dialogs.length > 0;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="${xml(entity)}">`,
    `<tuple id="registrar"><status><basic>${basic}</basic></status></tuple>`,
    onThePhone
      ? '<dm:person id="user"><rpid:activities><rpid:on-the-phone/></rpid:activities></dm:person>'
      : '',
    '</presence>',
  ]
    .filter(Boolean)
    .join('\n');
}

/**
 * A full dialog-info document (RFC 4235 §4): one <dialog> per call, none while idle. The dialog
 * id is a digest of the Call-ID: stable for the watcher. A call's identifiers and its caller
 * (what a Replaces header needs, §4.1.6) are given only while it rings, so that a colleague can
 * pick it up; once answered, watchers learn only that it goes on.
 */
function dialogInfo({ entity, presence, version }: PresenceDocument): string {
  const dialogs = presence.dialogs.map((d) => {
    const pickup = d.pickup;
    const ids = pickup
      ? ` call-id="${xml(pickup.callId)}" local-tag="${xml(pickup.calleeTag)}" remote-tag="${xml(pickup.callerTag)}"`
      : '';
    const remote = pickup
      ? `<remote><identity>sip:${xml(pickup.caller)}@${xml(domainOf(entity))}</identity></remote>`
      : '';
    return `<dialog id="${dialogId(d.id)}"${ids} direction="${d.direction}"><state>${d.state}</state>${remote}</dialog>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="${version}" state="full" entity="${xml(entity)}">`,
    ...dialogs,
    '</dialog-info>',
  ].join('\n');
}

function dialogId(callId: string): string {
  return createHash('sha256').update(callId).digest('hex').slice(0, 16);
}

function domainOf(entity: string): string {
  return entity.slice(entity.lastIndexOf('@') + 1);
}
