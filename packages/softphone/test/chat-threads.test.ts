import { describe, expect, it } from '@jest/globals';
import { ChatThreads, chatPeer } from '../src/ui/chat-threads.js';

const OWN = 'sip:alice@example.com';

describe('chatPeer', () => {
  it.each([
    ['bob', 'sip:bob@example.com'],
    ['600', 'sip:600@example.com'],
    ['sip:bob@example.com', 'sip:bob@example.com'],
    ['sip:bob@Example.COM;transport=ws', 'sip:bob@example.com'],
    ['sips:bob@example.org?subject=x', 'sips:bob@example.org'],
    [' SIP:carol@127.0.0.1:5060 ', 'sip:carol@127.0.0.1:5060'],
  ])('%s is the thread %s', (address, peer) => {
    expect(chatPeer(address, OWN)).toBe(peer);
  });

  it('names a bare user without a domain while the phone has no address yet (contacts listed before it starts)', () => {
    expect(chatPeer('bob', '')).toBe('sip:bob@');
  });
});

describe('ChatThreads', () => {
  const message = (peer: string, direction: 'in' | 'out' = 'in') => ({
    peer,
    direction,
    who: peer,
    text: `to or from ${peer}`,
  });

  it('keeps a thread per peer, in order, and lists the peers by their first message', () => {
    const threads = new ChatThreads();
    const first = threads.add(message('sip:bob@x'), true);
    threads.add(message('sip:carol@x'), true);
    const reply = threads.add(message('sip:bob@x', 'out'), true);
    expect(threads.thread('sip:bob@x')).toEqual([first, reply]);
    expect(threads.peers()).toEqual(['sip:bob@x', 'sip:carol@x']);
    expect(new Set([first.id, reply.id]).size).toBe(2);
  });

  it('counts received messages not seen as unread, until their thread is read', () => {
    const threads = new ChatThreads();
    threads.add(message('sip:carol@x'), false);
    threads.add(message('sip:carol@x'), false);
    threads.add(message('sip:carol@x', 'out'), false);
    threads.add(message('sip:bob@x'), true);
    expect(threads.unread('sip:carol@x')).toBe(2);
    expect(threads.unread('sip:bob@x')).toBe(0);
    threads.read('sip:carol@x');
    expect(threads.unread('sip:carol@x')).toBe(0);
    threads.add(message('sip:dave@x'), false);
    threads.readAll();
    expect(threads.unread('sip:dave@x')).toBe(0);
  });
});
