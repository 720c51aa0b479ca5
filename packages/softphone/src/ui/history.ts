import type { Call, CallQualityReport } from '../index.js';
import { $ } from './dom.js';
import { callParty, partyElement, partyOf, uriDetails } from './party.js';
import { drawQualityChart, type QualityPoint, qualityPoints } from './quality-chart.js';

const HISTORY_KEY = 'ringway.history';

/** Keeps an ended call, its quality report and chart, in this browser (the newest 100). */
export function saveHistory(call: Call): void {
  const history = JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]') as unknown[];
  history.unshift({
    ...call.summary(),
    // The display name SIP gave, kept: the history names people as the call did.
    name: callParty(call).name,
    quality: call.qualityReport(),
    points: qualityPoints(call.samples),
  });
  localStorage.setItem(HISTORY_KEY, JSON.stringify(history.slice(0, 100)));
  renderHistory();
}

/** The newest 20 calls, each with its end, notes and quality chart. */
export function renderHistory(): void {
  const history = JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]') as Array<
    ReturnType<Call['summary']> & { name?: string; quality?: CallQualityReport; points?: QualityPoint[] }
  >;
  $('history-list').replaceChildren(
    ...history.slice(0, 20).map((entry) => {
      const item = document.createElement('li');
      const when = new Date(entry.startedAt).toLocaleTimeString();
      const end = entry.endReason ? ` — ${entry.endReason.text}` : '';
      const quality = entry.quality;
      const notes = [
        quality?.mos ? `MOS ${quality.mos}` : '',
        quality?.reconnects ? `${quality.reconnects} reconnection(s)` : '',
        ...(quality?.warnings ?? []),
      ].filter(Boolean);
      const party = partyOf(entry.remote, entry.name);
      item.dataset.testid = 'history-entry';
      item.append(
        `${when} ${entry.direction === 'outgoing' ? '→' : '←'} `,
        partyElement(party),
        `${end}${notes.length ? ` (${notes.join(', ')})` : ''}`,
        uriDetails(party, 'history-uri'),
      );
      // The call's quality over its length, kept with the entry.
      if (entry.points && entry.points.length > 1) {
        const chart = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
        chart.classList.add('quality-chart');
        chart.setAttribute('role', 'img');
        chart.setAttribute('aria-label', 'Call quality over the call: MOS, jitter, loss, RTT');
        chart.setAttribute('data-testid', 'history-quality-chart');
        drawQualityChart(chart, entry.points);
        item.append(chart);
      }
      return item;
    }),
  );
}
