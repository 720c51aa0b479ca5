import type { ChatMessage, Phone } from '../index.js';
import { deliveryText } from './action-outcome.js';
import { $ } from './dom.js';
import { page } from './page-state.js';

/** A message the phone on screen received, on the log. */
export function showReceived(message: ChatMessage): void {
  // Our own are on the log from the moment they are sent, with their delivery (sendChat).
  if (message.direction === 'out') return;
  const item = document.createElement('li');
  item.textContent = `${message.from}: ${message.text}`;
  $('chat-log').append(item);
}

/** Sends a chat message; its line in the log says sending, then delivered or failed (with the reason). */
function sendChat(from: Phone, to: string, input: HTMLInputElement): void {
  const text = input.value;
  const item = document.createElement('li');
  item.dataset.testid = 'chat-sent';
  const delivery = document.createElement('span');
  delivery.dataset.testid = 'chat-delivery';
  const mark = (outcome: Parameters<typeof deliveryText>[0]) => {
    const words = deliveryText(outcome);
    delivery.textContent = words;
    item.dataset.delivery = words.split(' ')[0];
  };
  mark('sending');
  item.append(`→ ${to}: ${text} — `, delivery);
  $('chat-log').append(item);
  from.sendMessage(to, text).then(
    () => {
      mark('delivered');
      if (input.value === text) input.value = '';
    },
    (error: unknown) => mark({ failed: error }),
  );
}

export function wireChat(): void {
  $('chat-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const to = $<HTMLInputElement>('chat-to').value.trim();
    const text = $<HTMLInputElement>('chat-text');
    if (to && text.value && page.phone) sendChat(page.phone, to, text);
  });
}
