import { type Call, CallState, isFinal } from '../index.js';
import { renderCall, renderLines, renderStats } from './call-view.js';
import { saveHistory } from './history.js';
import { incomingCallChanged } from './incoming.js';
import { page } from './page-state.js';
import { sendQualityReport } from './quality-report.js';

/** A call's events, to the screen, the console, the history and the gateway's metrics. */
export function follow(call: Call): void {
  call.stateChange.addListener((state) => {
    incomingCallChanged(call, state);
    if (isFinal(state)) {
      saveHistory(call);
      if (call.state !== CallState.Failed || call.samples.length > 0) sendQualityReport(call);
    }
    // The screen shows the chosen call while it lives, else the newest live call, else the last one.
    if (!page.current || isFinal(page.current.state)) page.current = page.phone?.calls.at(-1) ?? call;
    console.info(
      `[ringway] ${call.id} ${state}${call.endReason ? ` (${call.endReason.text})` : ''} ${call.waterfall}`,
    );
    renderCall();
    renderLines();
  });
  call.quality.addListener((sample) => {
    if (call === page.current) renderStats(sample, call);
  });
  call.remoteHoldChange.addListener((held) => {
    console.info(
      `[ringway] ${call.id} ${held ? 'held by the other side' : 'taken off hold by the other side'}`,
    );
    if (call === page.current) renderCall();
  });
  call.mediaWarning.addListener(({ started, cleared }) => {
    for (const warning of started)
      console.warn(`[ringway] ${call.id} warning ${warning.kind} (${warning.cause}): ${warning.text}`);
    for (const kind of cleared) console.info(`[ringway] ${call.id} warning ${kind} cleared`);
    if (call === page.current) renderCall();
  });
}
