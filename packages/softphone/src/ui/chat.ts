import type { Call, ChatMessage } from '../index.js';
import { deliveryText } from './action-outcome.js';
import { type ChatLine, ChatThreads, chatPeer } from './chat-threads.js';
import { $ } from './dom.js';
import { liveCall, page } from './page-state.js';
import { partyElement, partyOf, partyText } from './party.js';

/**
 * SIP MESSAGE chat. Every message is on the idle screen's log (chat-log). During a call the call
 * screen shows one thread and sends to it (call-chat-log): the call's other party's, or another
 * the person picked; messages of other threads meanwhile are counted unread on their thread's
 * button until it is opened or the call ends (then the idle log shows them).
 */
const threads = new ChatThreads();
/** A thread the person picked on the call screen, for that call only. */
let picked: { call: Call; peer: string } | undefined;

const ownAor = () => page.phone?.options.aor ?? '';

/** The thread the call screen shows, while a call is on screen; undefined without one. */
function callThread(): string | undefined {
  const call = liveCall();
  if (!call) return undefined;
  return picked?.call === call ? picked.peer : chatPeer(call.remote, ownAor());
}

function lineItem(line: ChatLine): HTMLLIElement {
  const item = document.createElement('li');
  item.dataset.line = String(line.id);
  // Named as everywhere on the page (party.ts): the thread's URI on demand, as the name's title.
  const who = partyElement(partyOf(line.peer));
  if (line.direction === 'in') {
    item.dataset.testid = 'chat-received';
    item.append(who, `: ${line.text}`);
    return item;
  }
  item.dataset.testid = 'chat-sent';
  const delivery = document.createElement('span');
  delivery.dataset.testid = 'chat-delivery';
  item.append('→ ', who, `: ${line.text} — `, delivery);
  showDelivery(item, line);
  return item;
}

function showDelivery(item: HTMLElement, line: ChatLine): void {
  const words = line.delivery ?? '';
  item.dataset.delivery = words.split(' ')[0];
  const delivery = item.querySelector<HTMLElement>('[data-testid="chat-delivery"]');
  if (delivery) delivery.textContent = words;
}

/** A new message, on the idle log and, when it is the call screen's thread, on that one too. */
function addLine(line: Omit<ChatLine, 'id'>): ChatLine {
  const shown = callThread();
  const added = threads.add(line, shown === undefined || shown === line.peer);
  $('chat-log').append(lineItem(added));
  if (shown === line.peer) {
    const log = $('call-chat-log');
    log.append(lineItem(added));
    // The newest in view: the thread scrolls (style.css).
    log.scrollTop = log.scrollHeight;
  }
  if (shown !== undefined) renderThreadList(shown);
  return added;
}

/** A message the phone on screen received. */
export function showReceived(message: ChatMessage): void {
  // Our own are on the logs from the moment they are sent, with their delivery (send).
  if (message.direction === 'out') return;
  addLine({ peer: chatPeer(message.from, ownAor()), direction: 'in', who: message.from, text: message.text });
}

/** Sends the input's text to `to`; its line says sending, then delivered or failed (with the reason). */
function send(to: string, input: HTMLInputElement): void {
  const phone = page.phone;
  const text = input.value;
  if (!phone || !to || !text) return;
  const line = addLine({
    peer: chatPeer(to, ownAor()),
    direction: 'out',
    who: to,
    text,
    delivery: deliveryText('sending'),
  });
  // The line may be on both logs.
  const mark = (outcome: 'delivered' | { failed: unknown }) => {
    line.delivery = deliveryText(outcome);
    for (const item of document.querySelectorAll<HTMLElement>(`[data-line="${line.id}"]`))
      showDelivery(item, line);
  };
  phone.sendMessage(to, text).then(
    () => {
      mark('delivered');
      if (input.value === text) input.value = '';
    },
    (error: unknown) => mark({ failed: error }),
  );
}

/** The call screen's threads: the one shown (aria-current) and the others, with their unread count. */
function renderThreadList(shown: string): void {
  const call = liveCall();
  // The call's other party first, whether or not they have written yet.
  const peers = [...new Set([...(call ? [chatPeer(call.remote, ownAor())] : []), ...threads.peers()])];
  const list = $('chat-threads');
  // One thread needs no choosing.
  list.hidden = peers.length < 2;
  list.replaceChildren(
    ...peers.map((peer) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.testid = 'chat-thread';
      button.dataset.peer = peer;
      const unread = threads.unread(peer);
      button.dataset.unread = String(unread);
      const name = partyText(partyOf(peer));
      button.textContent = unread > 0 ? `${name} · ${unread} new` : name;
      button.title = peer;
      button.setAttribute('aria-current', String(peer === shown));
      button.addEventListener('click', () => {
        if (page.current) picked = { call: page.current, peer };
        renderCallChat();
      });
      item.append(button);
      return item;
    }),
  );
}

/** The call screen's thread, after any change of the call on screen. */
export function renderCallChat(): void {
  const log = $('call-chat-log');
  const shown = callThread();
  if (shown === undefined) {
    // No call screen: the idle log shows every message.
    threads.readAll();
    delete log.dataset.peer;
    log.replaceChildren();
    return;
  }
  threads.read(shown);
  if (log.dataset.peer !== shown) {
    log.dataset.peer = shown;
    $('call-chat-peer').replaceChildren(partyElement(partyOf(shown)));
    log.replaceChildren(...threads.thread(shown).map(lineItem));
  }
  renderThreadList(shown);
}

export function wireChat(): void {
  $('chat-form').addEventListener('submit', (event) => {
    event.preventDefault();
    send($<HTMLInputElement>('chat-to').value.trim(), $<HTMLInputElement>('chat-text'));
  });
  $('call-chat-form').addEventListener('submit', (event) => {
    event.preventDefault();
    // A thread's name is the address its replies go to (chatPeer).
    send(callThread() ?? '', $<HTMLInputElement>('call-chat-text'));
  });
}
