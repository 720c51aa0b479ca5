import type { GatewayConfig } from '../../config/config-schema.js';
import { addressOfRecord, type NameAddr, parseNameAddr } from '../address.js';
import { AGENT } from '../dialog-rules.js';
import type { Flow } from '../flow.js';
import {
  detached,
  header,
  headers,
  type SipHeaderField,
  type SipRequest,
  type SipResponse,
} from '../message.js';
import { asksForOutbound } from '../outbound.js';
import { createResponse, warning } from '../responses.js';
import type { Binding } from './binding.js';
import type { LocationService } from './location-service.js';

/** What of a User-Agent is kept for /api/registrations. */
const MAX_USER_AGENT = 200;

interface RegisterContext {
  request: SipRequest;
  flow: Flow;
  /** The SIP user the request authenticated as, or undefined in anonymous mode. */
  user: string | undefined;
  now: number;
}

/**
 * The embedded registrar (RFC 3261 §10.3): adds, refreshes and removes the bindings of an
 * address-of-record. Authentication is done before this is called; here `user` must match the
 * AoR being registered.
 */
export class Registrar {
  constructor(
    private readonly location: LocationService,
    private readonly config: Pick<GatewayConfig, 'registration' | 'sipDomain'>,
  ) {}

  register({ request, flow, user, now }: RegisterContext): SipResponse {
    const reject = (status: number, text: string, extra: SipHeaderField[] = []) =>
      createResponse(request, status, [warning(AGENT, text), ...extra]);
    const to = parseNameAddr(header(request, 'To') ?? '');
    if (!to) return reject(400, 'malformed To');
    if (to.uri.host.toLowerCase() !== this.config.sipDomain.toLowerCase()) {
      return reject(403, `domain ${to.uri.host} is not served here`);
    }
    const aor = addressOfRecord(to.uri);
    if (user !== undefined && user !== to.uri.user) return reject(403, `${user} may not register ${aor}`);

    const callId = header(request, 'Call-ID') as string;
    const cseq = Number.parseInt(header(request, 'CSeq') as string, 10);
    const contactValues = headers(request, 'Contact');
    const expiresHeader = header(request, 'Expires');
    if (expiresHeader !== undefined && !/^\d+$/.test(expiresHeader)) return reject(400, 'malformed Expires');

    if (contactValues.includes('*')) {
      // RFC 3261 §10.3 step 6: `*` only alone and only with Expires: 0.
      if (contactValues.length !== 1 || expiresHeader !== '0')
        return reject(400, 'Contact * needs Expires: 0 alone');
      for (const binding of this.location.lookup(aor)) {
        if (binding.callId !== callId || binding.cseq < cseq) this.location.remove(binding);
      }
      return this.#ok(request, aor, now);
    }

    const contacts: NameAddr[] = [];
    for (const value of contactValues) {
      const contact = parseNameAddr(value);
      if (!contact) return reject(400, `malformed Contact ${value.slice(0, 60)}`);
      contacts.push(contact);
    }
    const { minExpires, maxExpires, defaultExpires } = this.config.registration;
    const changes: Array<{ contact: NameAddr; key: string; expires: number }> = [];
    for (const contact of contacts) {
      const raw = contact.params.expires ?? expiresHeader ?? String(defaultExpires);
      if (!/^\d+$/.test(raw)) return reject(400, `malformed expires ${raw}`);
      const expires = Number(raw);
      if (expires > 0 && expires < minExpires) {
        return reject(423, `expiry ${expires} s is below ${minExpires} s`, [
          { name: 'Min-Expires', value: String(minExpires) },
        ]);
      }
      changes.push({ contact, key: bindingKey(contact), expires: Math.min(expires, maxExpires) });
    }
    for (const { key } of changes) {
      const existing = this.location.find(aor, key);
      // RFC 3261 §10.3 step 7: a request older than the binding it would change is out of order.
      if (existing && existing.callId === callId && existing.cseq >= cseq) {
        return reject(500, 'REGISTER out of order', [{ name: 'Retry-After', value: '1' }]);
      }
    }
    for (const { contact, key, expires } of changes) {
      if (expires === 0) {
        const existing = this.location.find(aor, key);
        if (existing) this.location.remove(existing);
        continue;
      }
      const q = contact.params.q;
      const userAgent = header(request, 'User-Agent');
      // Detached copies: a binding lives for minutes and must not keep its REGISTER alive.
      const binding: Binding = {
        aor: detached(aor),
        contact: detached(contact.uri.withoutHeaders),
        key: detached(key),
        flowId: flow.id,
        expiresAt: now + expires * 1000,
        callId: detached(callId),
        cseq,
        ...(q ? { q: Number(q) } : {}),
        ...(userAgent ? { userAgent: detached(userAgent.slice(0, MAX_USER_AGENT)) } : {}),
      };
      this.location.upsert(binding);
    }
    this.location.markKnown(detached(aor));
    return this.#ok(request, aor, now, asksForOutbound(request));
  }

  #ok(request: SipRequest, aor: string, now: number, outbound = false): SipResponse {
    const contacts = this.location.lookup(aor).map((b) => ({
      name: 'Contact',
      value: `<${b.contact}>;expires=${Math.max(0, Math.round((b.expiresAt - now) / 1000))}`,
    }));
    // RFC 5626 §6: the registrar tells an outbound client that its flow is kept.
    const extra = outbound ? [{ name: 'Require', value: 'outbound' }] : [];
    return createResponse(request, 200, [
      ...contacts,
      ...extra,
      { name: 'Date', value: new Date(now).toUTCString() },
    ]);
  }
}

function bindingKey(contact: NameAddr): string {
  const instance = contact.params['+sip.instance'];
  const regId = contact.params['reg-id'];
  return instance && regId ? `${instance}#${regId}` : contact.uri.withoutHeaders;
}
