import type { Call } from '../index.js';

/** The call's quality report, to the gateway's metrics (POST /api/calls/{callId}/quality). */
export function sendQualityReport(call: Call): void {
  const report = call.qualityReport();
  if (!call.callToken) {
    console.warn('[ringway] quality report not sent: the gateway handed this call no token');
    return;
  }
  void fetch(`/api/calls/${encodeURIComponent(report.callId)}/quality`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${call.callToken}` },
    body: JSON.stringify({ ...report, callId: undefined }),
    // The page may be closing as the call ends.
    keepalive: true,
  }).catch((error: Error) => console.warn('[ringway] quality report not sent', error.message));
}
