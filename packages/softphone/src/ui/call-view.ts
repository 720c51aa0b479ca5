import { type Call, CallState, isFinal, type QualitySample } from '../index.js';
import { attachMedia, stopMeters } from './call-media.js';
import { renderCallChat } from './chat.js';
import { $, setText, show } from './dom.js';
import { liveCall, page } from './page-state.js';
import { callParty, partyText, showParty } from './party.js';
import { drawQualityChart, qualityPoints } from './quality-chart.js';
import { callDuration } from './screen.js';
import { renderScreen } from './screen-view.js';
import { drawWaterfallChart } from './waterfall-chart.js';

/** Puts a call on screen: the one the controls act on. */
export function select(call: Call): void {
  page.current = call;
  renderCall();
  renderLines();
}

function describe(call: Call): string {
  if (call.endReason) return `${call.state}: ${call.endReason.text}`;
  if (call.heldByRemote && call.state === CallState.Active) return 'held by the other side';
  return call.state;
}

/** The running call's length, once a second while a call is on screen. */
export function renderTimer(): void {
  const { current } = page;
  const answeredAt = current && !isFinal(current.state) ? current.answeredAt : undefined;
  setText('call-timer', answeredAt === undefined ? '0:00' : callDuration(Date.now() - answeredAt));
}

/** Every call of the phone on screen, one tap to switch to it. */
export function renderLines(): void {
  const calls = page.phone?.calls ?? [];
  $('lines').replaceChildren(
    ...calls.map((call) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      const party = callParty(call);
      button.textContent = `${partyText(party)} — ${call.state}`;
      button.title = party.uri;
      button.dataset.state = call.state;
      button.setAttribute('aria-current', String(call === page.current));
      button.addEventListener('click', () => select(call));
      item.append(button);
      return item;
    }),
  );
  show('attended-button', calls.filter((c) => !isFinal(c.state)).length > 1);
  renderScreen();
}

export function renderCall(): void {
  const call = page.current;
  drawChart(call?.samples ?? []);
  setText('call-state', call ? describe(call) : 'idle');
  show('active-call', liveCall() !== undefined);
  renderCallChat();
  if (!call || isFinal(call.state)) stopMeters();
  if (!call) return;
  showParty('call-remote', callParty(call), `${call.direction === 'outgoing' ? 'To' : 'From'} `);
  renderTimer();
  const hold = $('hold-button');
  hold.textContent = call.state === CallState.Held ? 'Resume' : 'Hold';
  hold.setAttribute('aria-pressed', String(call.state === CallState.Held));
  const mute = $('mute-button');
  mute.textContent = call.muted ? 'Unmute' : 'Mute';
  mute.setAttribute('aria-pressed', String(call.muted));
  drawWaterfallChart($<HTMLElement>('waterfall-chart') as unknown as SVGSVGElement, call.waterfall.entries());
  $('waterfall').replaceChildren(
    ...call.waterfall.entries().map(([step, ms]) => {
      const item = document.createElement('li');
      item.textContent = `${step}: ${ms} ms`;
      item.dataset.step = step;
      return item;
    }),
  );
  setText('call-warning', call.warnings.map((w) => w.text).join(' · '));
  $('call-warning').dataset.kinds = call.warnings.map((w) => w.kind).join(' ');
  attachMedia(call);
}

export function renderStats(sample: QualitySample, call: Call): void {
  const fmt = (n: number | undefined, unit: string) => (n === undefined ? '–' : `${Math.round(n)} ${unit}`);
  setText(
    'call-stats',
    `codec ${sample.codec ?? '–'} · rtt ${fmt(sample.rttMs, 'ms')} · jitter ${fmt(sample.jitterMs, 'ms')} · loss ${sample.lossPercent.toFixed(1)} % · ${sample.bitrateKbps} kbit/s · MOS ${sample.mos}`,
  );
  $('call-stats').dataset.bytesReceived = String(sample.bytesReceived);
  // Said rather than silently missing: where the browser does not report it, no "no input".
  show('mic-check', call.microphoneMeasured === false);
  const badge = $('quality-badge');
  badge.hidden = false;
  badge.dataset.grade = qualityGrade(sample.mos);
  badge.textContent = `${qualityGrade(sample.mos)} · MOS ${sample.mos}`;
  drawChart(call.samples);
}

/** The quality badge's word for a MOS (ITU-T G.107's user satisfaction bands, coarsened). */
function qualityGrade(mos: number): 'good' | 'fair' | 'poor' {
  if (mos >= 4) return 'good';
  return mos >= 3.6 ? 'fair' : 'poor';
}

/**
 * The call's quality so far (MOS, jitter, loss, RTT), the same chart its history entry keeps;
 * shown once there are two points to join.
 */
function drawChart(samples: QualitySample[]): void {
  const chart = $('quality-chart') as unknown as SVGSVGElement;
  const points = qualityPoints(samples);
  chart.toggleAttribute('hidden', points.length < 2);
  if (points.length >= 2) drawQualityChart(chart, points);
}
