import { randomBytes } from 'node:crypto';
import { parseNameAddr } from '../address.js';
import { credentialUser, issueEphemeralCredential } from '../auth/credentials.js';
import { parseDigestParams } from '../auth/digest.js';
import type { Logger } from '../logger.js';
import { detached, header, headers, type SipRequest, type SipResponse } from '../message.js';
import { MAGIC_COOKIE } from '../proxy/branch-id.js';
import { digestAuthorization } from './digest-client.js';

/** Branches of the gateway's own unregistering REGISTERs, so that their answers are recognised. */
export const UNREGISTER_BRANCH_PREFIX = `${MAGIC_COOKIE}.unreg.`;

/** What became of one closed flow's unregistration: a fixed set, used as a metric label. */
export type UnregisterOutcome = 'removed' | 'refused' | 'timeout' | 'dropped';

export interface UnregisterOptions {
  /**
   * AUTH_SECRET, which the upstream's auth_ephemeral shares (Kamailio's kamailio.cfg): the gateway
   * issues itself a short-lived credential for the user whose contacts it removes.
   */
  secret: string;
  /** How long one unregistration waits for its answers, challenge included (default 5 s). */
  timeoutMs?: number;
  /** True while the gateway shuts down: its flows are not unregistered then (see below). */
  shuttingDown?: () => boolean;
  /** Each unregistration's outcome, for a counter. */
  onOutcome?: (outcome: UnregisterOutcome) => void;
}

/** What one flow's registration needs to be undone; kept from the upstream's 2xx to the flow's close. */
interface FlowBinding {
  /** The Request-URI and To URI the client registered with. */
  uri: string;
  aor: string;
  /** The digest user whose credential registered it (an ephemeral credential's user part). */
  user: string;
  callId: string;
  cseq: number;
  /** By contact key (user@host): the Contact as sent, its `expires` parameter taken out. */
  contacts: Map<string, string>;
  path: string;
}

interface Pending {
  request: SipRequest;
  user: string;
  challenged: boolean;
  timer: NodeJS.Timeout;
}

/** Contacts kept per flow at most (flow-table.ts keeps as many): a client sends one or two. */
const MAX_CONTACTS_PER_FLOW = 16;
/** Unregistrations in flight at once: beyond, a closing flow is left to expire (a flood, not people). */
const MAX_PENDING = 10_000;
const CREDENTIAL_SECONDS = 60;
const DEFAULT_TIMEOUT_MS = 5000;

/** The contact key flow-table.ts uses: user and host, lower-cased host. */
function contactKey(user: string | undefined, host: string): string {
  return `${user ?? ''}@${host.toLowerCase()}`;
}

/** A Contact value without its `expires` header parameter (after the `>`), as it was sent otherwise. */
function withoutExpires(value: string): string {
  const close = value.lastIndexOf('>');
  if (close === -1) return value.replace(/;\s*expires\s*=\s*\d+/i, '');
  return value.slice(0, close + 1) + value.slice(close + 1).replace(/;\s*expires\s*=\s*\d+/i, '');
}

/**
 * Unregisters a closed WebSocket flow's contacts upstream (issue 25 item 5): a page that was
 * closed otherwise stays registered until its binding expires, and calls to its user fork to a
 * contact nobody answers. When the upstream accepts a REGISTER on a flow, what undoing it takes is
 * kept (bounded, per flow): the AoR, each Contact as sent (its +sip.instance and reg-id with it),
 * the Path the relay added, the client's Call-ID and CSeq. When the flow closes, the gateway sends
 * one REGISTER with those Contacts and `expires=0` itself, and answers the upstream's challenge
 * with an ephemeral credential it issues for that user from AUTH_SECRET (auth_ephemeral on the
 * same secret, as in Ringway's Kamailio). Best effort: one attempt (UDP retransmissions aside), a
 * timeout, nothing kept afterwards, debug logs only.
 *
 * Not done, on purpose:
 * - Registrations made with a user's own password (an Asterisk or another PBX that checks its
 *   endpoints' passwords, or USERS_FILE devices): the gateway holds no credential for them, so it
 *   leaves them to expire. Only a registration proved with an ephemeral credential
 *   (`<expiry>:<user>`) is kept for unregistering.
 * - A gateway shutting down (SIGTERM): its clients reconnect to it (or another gateway) at once
 *   and register again; unregistering them all would make everybody unreachable between the two
 *   and send the upstream a burst of REGISTERs at the worst moment. Their bindings are replaced by
 *   the new registrations (same +sip.instance/reg-id) or expire.
 * - A contact the same client has meanwhile registered through another flow of this gateway
 *   (flow recovery, the caller's `stillOwns`). Through another gateway or worker this one cannot
 *   know; the request then carries the client's own Call-ID with the CSeq after its last one, so
 *   a registrar that orders by CSeq (RFC 3261 §10.3 step 7) refuses it when the client has
 *   refreshed with that Call-ID since.
 */
export class ClosedFlowUnregistrar {
  readonly #bindings = new Map<string, FlowBinding>();
  readonly #pending = new Map<string, Pending>();
  #next = 0;

  constructor(
    private readonly options: UnregisterOptions,
    private readonly io: {
      /** Sends a request upstream (with retransmissions over UDP) under `branch`. */
      send: (request: SipRequest, branch: string) => void;
      /** Stops retransmitting `branch`. */
      stop: (branch: string) => void;
      /** The top Via's value without branch: `SIP/2.0/UDP host:port`. */
      via: () => string;
      log: Logger;
    },
  ) {}

  /** Flows with something kept (for tests). */
  get size(): number {
    return this.#bindings.size;
  }

  /**
   * The upstream accepted `request` (a client's REGISTER, kept with To, Contact, Authorization,
   * Call-ID, CSeq and Expires) on flow `flowId`, which `path` names.
   */
  registered(flowId: string, request: SipRequest, path: string): void {
    const username = parseDigestParams(header(request, 'Authorization') ?? '')?.username;
    // Only ephemeral credentials: a user's own password is not the gateway's to use.
    if (username === undefined || credentialUser(username) === username) return;
    const to = parseNameAddr(header(request, 'To') ?? '');
    const callId = header(request, 'Call-ID');
    const cseq = Number.parseInt(header(request, 'CSeq') ?? '', 10);
    if (!to || !callId || !Number.isSafeInteger(cseq)) return;
    const user = credentialUser(username);
    let binding = this.#bindings.get(flowId);
    if (!binding || binding.callId !== callId || binding.user !== user) {
      binding = {
        uri: detached(request.uri),
        aor: detached(to.uri.withoutHeaders),
        user: detached(user),
        callId: detached(callId),
        cseq,
        contacts: new Map(),
        path: detached(path),
      };
      this.#bindings.set(flowId, binding);
    }
    binding.cseq = Math.max(binding.cseq, cseq);
    const expiresHeader = header(request, 'Expires');
    for (const value of headers(request, 'Contact')) {
      if (value.trim() === '*') {
        binding.contacts.clear();
        continue;
      }
      const contact = parseNameAddr(value);
      if (!contact) continue;
      const key = contactKey(contact.uri.user, contact.uri.host);
      const expires = contact.params.expires ?? expiresHeader;
      if (expires !== undefined && expires !== null && Number(expires) === 0) {
        binding.contacts.delete(key);
        continue;
      }
      if (!binding.contacts.has(key) && binding.contacts.size >= MAX_CONTACTS_PER_FLOW) {
        const oldest = binding.contacts.keys().next().value as string;
        binding.contacts.delete(oldest);
      }
      binding.contacts.set(detached(key), detached(withoutExpires(value)));
    }
    if (binding.contacts.size === 0) this.#bindings.delete(flowId);
  }

  /** Flow `flowId` closed while the upstream does not answer: nothing is sent, nothing kept. */
  forget(flowId: string): void {
    this.#bindings.delete(flowId);
  }

  /**
   * Flow `flowId` closed: unregister what it registered, but the contacts `stillOwns` says have
   * moved to another flow (false for those), unless the gateway is shutting down.
   */
  flowClosed(flowId: string, stillOwns: (user: string | undefined, host: string) => boolean): void {
    const binding = this.#bindings.get(flowId);
    if (!binding) return;
    this.#bindings.delete(flowId);
    if (this.options.shuttingDown?.()) {
      this.io.log.debug({ flowId }, 'flow closed at shutdown: its contacts are left registered upstream');
      return;
    }
    const contacts = [...binding.contacts.entries()]
      .filter(([key]) => {
        const at = key.lastIndexOf('@');
        return stillOwns(key.slice(0, at) || undefined, key.slice(at + 1));
      })
      .map(([, value]) => value);
    if (contacts.length === 0) return;
    if (this.#pending.size >= MAX_PENDING) {
      this.options.onOutcome?.('dropped');
      return;
    }
    this.#send(this.#request(binding, contacts, binding.cseq + 1), binding.user, false);
    this.io.log.debug({ flowId, contacts: contacts.length }, 'unregistering a closed flow upstream');
  }

  /** A response upstream: true when it answers one of ours (and is then consumed). */
  answered(branch: string, response: SipResponse): boolean {
    if (!branch.startsWith(UNREGISTER_BRANCH_PREFIX)) return false;
    const pending = this.#pending.get(branch);
    if (!pending || response.status < 200) return true;
    this.#finish(branch, pending);
    const challenge =
      response.status === 401
        ? header(response, 'WWW-Authenticate')
        : response.status === 407
          ? header(response, 'Proxy-Authenticate')
          : undefined;
    if (challenge !== undefined && !pending.challenged) {
      const credential = issueEphemeralCredential(this.options.secret, pending.user, CREDENTIAL_SECONDS);
      const { request } = pending;
      const authorization = digestAuthorization(challenge, request, credential);
      if (authorization !== undefined) {
        const cseq = Number.parseInt(header(request, 'CSeq') ?? '', 10) + 1;
        const name = response.status === 401 ? 'Authorization' : 'Proxy-Authorization';
        const again: SipRequest = {
          ...request,
          headers: [
            ...request.headers.filter((h) => h.name !== 'CSeq' && h.name !== 'Via'),
            { name: 'CSeq', value: `${cseq} REGISTER` },
            { name, value: authorization },
          ],
        };
        this.#send(again, pending.user, true);
        return true;
      }
    }
    const outcome = response.status < 300 ? 'removed' : 'refused';
    this.io.log.debug({ status: response.status, outcome }, 'unregistration of a closed flow answered');
    this.options.onOutcome?.(outcome);
    return true;
  }

  close(): void {
    for (const [branch, pending] of this.#pending) this.#finish(branch, pending);
    this.#bindings.clear();
  }

  #request(binding: FlowBinding, contacts: string[], cseq: number): SipRequest {
    return {
      kind: 'request',
      method: 'REGISTER',
      uri: binding.uri,
      headers: [
        { name: 'Max-Forwards', value: '70' },
        { name: 'From', value: `<${binding.aor}>;tag=${randomBytes(6).toString('hex')}` },
        { name: 'To', value: `<${binding.aor}>` },
        { name: 'Call-ID', value: binding.callId },
        ...contacts.map((value) => ({ name: 'Contact', value: `${value};expires=0` })),
        { name: 'Expires', value: '0' },
        { name: 'Path', value: binding.path },
        { name: 'Supported', value: 'path' },
        { name: 'CSeq', value: `${cseq} REGISTER` },
      ],
      body: '',
    };
  }

  #send(request: SipRequest, user: string, challenged: boolean): void {
    this.#next += 1;
    const branch = `${UNREGISTER_BRANCH_PREFIX}${this.#next}.${randomBytes(4).toString('hex')}`;
    const timer = setTimeout(() => {
      const pending = this.#pending.get(branch);
      if (!pending) return;
      this.#finish(branch, pending);
      this.io.log.debug({}, 'unregistration of a closed flow not answered in time');
      this.options.onOutcome?.('timeout');
    }, this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    timer.unref();
    this.#pending.set(branch, { request, user, challenged, timer });
    this.io.send(
      {
        ...request,
        headers: [{ name: 'Via', value: `${this.io.via()};branch=${branch};rport` }, ...request.headers],
      },
      branch,
    );
  }

  #finish(branch: string, pending: Pending): void {
    clearTimeout(pending.timer);
    this.#pending.delete(branch);
    this.io.stop(branch);
  }
}
