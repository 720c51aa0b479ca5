import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Phone } from '../src/phone.js';
import { RegistrationState } from '../src/registration-state.js';
import { ServerRing } from '../src/server-ring.js';

describe('ServerRing', () => {
  it('starts on the first server and goes round the list, the first after the last', () => {
    const ring = new ServerRing(['ws://a/sip', 'ws://b/sip', 'ws://c/sip']);
    expect(ring.current).toBe('ws://a/sip');
    expect([ring.advance(), ring.advance(), ring.advance(), ring.advance()]).toEqual([
      'ws://b/sip',
      'ws://c/sip',
      'ws://a/sip',
      'ws://b/sip',
    ]);
    expect(ring.current).toBe('ws://b/sip');
  });

  it('takes one server as before, stays on it, and tries a server listed twice once a round', () => {
    const one = new ServerRing('ws://a/sip');
    expect([one.current, one.advance(), one.advance()]).toEqual(['ws://a/sip', 'ws://a/sip', 'ws://a/sip']);
    const twice = new ServerRing(['ws://a/sip', 'ws://b/sip', 'ws://a/sip']);
    expect(twice.servers).toEqual(['ws://a/sip', 'ws://b/sip']);
    expect(() => new ServerRing([])).toThrow(/at least one WebSocket server/);
  });
});

/**
 * A browser WebSocket for SIP.js's transport: it opens for the servers in `answering` (a
 * registrar that accepts every REGISTER), and fails as a connection to a gateway that is gone
 * does (close 1006) for any other.
 */
class FakeWebSocket extends EventTarget {
  static readonly opened: FakeWebSocket[] = [];
  static readonly answering = new Set<string>();
  /** What the phone sent on this connection. */
  readonly sent: string[] = [];
  binaryType = 'blob';
  readyState = 0;

  constructor(readonly url: string) {
    super();
    FakeWebSocket.opened.push(this);
    setTimeout(() => {
      if (!FakeWebSocket.answering.has(url)) return this.close(1006);
      this.readyState = 1;
      this.dispatchEvent(new Event('open'));
    });
  }

  send(message: string): void {
    this.sent.push(message);
    if (!message.startsWith('REGISTER ')) return;
    const headers = message
      .split('\r\n')
      .filter((line) => /^(Via|From|To|Call-ID|CSeq|Contact):/i.test(line))
      .map((line) => (/^To:/i.test(line) ? `${line};tag=registrar` : line));
    const ok = ['SIP/2.0 200 OK', ...headers, 'Content-Length: 0', '', ''].join('\r\n');
    setTimeout(() => this.dispatchEvent(Object.assign(new Event('message'), { data: ok })));
  }

  /** The code the phone closed this connection with, and whether its close event has been dispatched. */
  closedWith: number | undefined;
  closeDispatched = false;

  close(code = 1000): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.closedWith = code;
    setTimeout(() => {
      this.dispatchEvent(Object.assign(new Event('close'), { code }));
      this.closeDispatched = true;
    });
  }
}

/** The URLs the phone opened, once it has opened `count`. */
async function opened(count: number): Promise<string[]> {
  const deadline = Date.now() + 5000;
  while (FakeWebSocket.opened.length < count) {
    if (Date.now() > deadline)
      throw new Error(`${FakeWebSocket.opened.length} connections opened, waited for ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return FakeWebSocket.opened.map((socket) => socket.url);
}

describe('a phone with several servers', () => {
  const SERVERS = ['ws://gateway-1/sip', 'ws://gateway-2/sip', 'ws://gateway-3/sip'];
  const globals = globalThis as unknown as Record<string, unknown>;
  let phone: Phone;

  beforeAll(() => {
    globals.WebSocket = FakeWebSocket;
    // No microphone here: warming it fails, which the phone ignores until a call needs one.
    Object.defineProperty(globalThis, 'navigator', {
      configurable: true,
      value: { mediaDevices: { getUserMedia: () => Promise.reject(new Error('no microphone')) } },
    });
  });
  afterAll(() => {
    delete globals.WebSocket;
    delete globals.navigator;
  });
  afterEach(async () => {
    await phone.stop();
    FakeWebSocket.opened.length = 0;
    FakeWebSocket.answering.clear();
  });

  function registered(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (phone.registrationState !== RegistrationState.Registered) return;
        phone.registrationChange.removeListener(check);
        resolve();
      };
      phone.registrationChange.addListener(check);
      check();
    });
  }

  function startPhone(): void {
    phone = new Phone({
      server: SERVERS,
      aor: 'sip:alice@ringway.test',
      iceServers: [],
      backoff: { baseMs: 2, maxMs: 4 },
    });
    void phone.start().catch(() => undefined);
  }

  it('tries each server in turn, round the list, while none answers', async () => {
    startPhone();
    expect(phone.server).toBe(SERVERS[0]);
    expect((await opened(5)).slice(0, 5)).toEqual([...SERVERS, ...SERVERS.slice(0, 2)]);
    expect(phone.registrationState).toBe(RegistrationState.Reconnecting);
  });

  it('after a network change registers its contact again on the new connection, and sends no un-REGISTER of it there', async () => {
    FakeWebSocket.answering.add(SERVERS[0] as string);
    startPhone();
    await opened(1);
    await registered();
    phone.networkChanged();
    await opened(2);
    const second = FakeWebSocket.opened[1] as FakeWebSocket;
    const deadline = Date.now() + 5000;
    while (phone.registrationState !== RegistrationState.Registered || second.sent.length === 0) {
      if (Date.now() > deadline) throw new Error(`not registered again: ${phone.registrationState}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // The old registration's un-REGISTER, sent here, would race the new REGISTER of the same
    // contact: a registrar with several workers (Kamailio over UDP) may apply it last.
    const registers = second.sent.filter((message) => message.startsWith('REGISTER '));
    expect(registers).toHaveLength(1);
    expect(registers[0]).not.toMatch(/^Expires:\s*0\s*$|;expires=0\b/im);
  });

  it('says so when its page closes (4001), and neither reconnects nor leaves its registration state', async () => {
    FakeWebSocket.answering.add(SERVERS[0] as string);
    startPhone();
    await opened(1);
    await registered();
    const connection = FakeWebSocket.opened[0] as FakeWebSocket;
    phone.pageClosed();
    expect(connection.closedWith).toBe(4001);
    const deadline = Date.now() + 5000;
    while (!connection.closeDispatched) {
      if (Date.now() > deadline) throw new Error('the close event never came');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // A lost connection moves to reconnecting as its close event is handled; this one did not.
    expect(phone.registrationState).toBe(RegistrationState.Registered);
    expect(FakeWebSocket.opened).toHaveLength(1);
  });

  it('goes to the server after the one that is gone, and back to the same one after a network change', async () => {
    FakeWebSocket.answering.add(SERVERS[1] as string);
    startPhone();
    expect(await opened(2)).toEqual(SERVERS.slice(0, 2));
    // Connected to the second: it registers there.
    await registered();
    expect(phone.server).toBe(SERVERS[1]);
    // Our network changed, not the server: it is tried again first.
    phone.networkChanged();
    expect((await opened(3))[2]).toBe(SERVERS[1]);
    await registered();
    // That server is gone now: the next one, then round to the first.
    FakeWebSocket.answering.clear();
    FakeWebSocket.opened[2]?.close(1006);
    expect((await opened(5)).slice(3, 5)).toEqual([SERVERS[2], SERVERS[0]]);
    expect(phone.registrationState).toBe(RegistrationState.Reconnecting);
  });
});
