import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import { LRUCache } from 'lru-cache';
import type { GatewayMetrics } from '../metrics.js';
import { detached } from '../sip/message.js';

/** A softphone's per-call summary (packages/softphone CallQualityReport), as the API takes it. */
export const QualityReportSchema = Type.Object(
  {
    direction: Type.Union([Type.Literal('outgoing'), Type.Literal('incoming')]),
    durationMs: Type.Integer({ minimum: 0, maximum: 7 * 24 * 3600 * 1000 }),
    setupMs: Type.Optional(Type.Number({ minimum: 0, maximum: 600_000 })),
    codec: Type.Optional(Type.String({ maxLength: 64 })),
    rttMs: Type.Optional(Type.Number({ minimum: 0, maximum: 60_000 })),
    jitterMs: Type.Optional(Type.Number({ minimum: 0, maximum: 60_000 })),
    lossPercent: Type.Number({ minimum: 0, maximum: 100 }),
    mos: Type.Optional(Type.Number({ minimum: 1, maximum: 5 })),
    reconnects: Type.Integer({ minimum: 0, maximum: 1000 }),
    reconnectMs: Type.Array(Type.Number({ minimum: 0, maximum: 600_000 }), { maxItems: 100 }),
    warnings: Type.Array(Type.Union([Type.Literal('no-input'), Type.Literal('no-output')]), { maxItems: 2 }),
    endReason: Type.Optional(
      Type.Union([
        Type.Literal('local'),
        Type.Literal('remote'),
        Type.Literal('timeout'),
        Type.Literal('network'),
      ]),
    ),
  },
  { additionalProperties: false },
);
export type QualityReport = Static<typeof QualityReportSchema>;

/** Calls remembered for reports, and for how long after they began. */
const MAX_CALLS = 10_000;
const CALL_TTL_MS = 2 * 3600 * 1000;
/** One report from each side of a call. */
const REPORTS_PER_CALL = 2;

interface SeenCall {
  /**
   * The parties (users their call tokens name) that have reported, made by the first report: an
   * empty Set for each of the 10,000 calls kept was 4 of the 8 MB the fuzz left in the heap.
   */
  reported?: string[];
}

/**
 * Quality reports of calls, into Prometheus histograms (MOS, set-up time, reconnection time)
 * and counters (warnings, reconnections), so an operator sees quality across all calls. Only
 * calls this gateway routed are taken, once from each party, who proves to be one with the call
 * token the gateway handed it (call-tokens.ts): a Call-ID alone is no proof.
 */
export class QualityReports {
  /**
   * Calls by Call-ID, for 2 h; when full, the one least recently begun or reported on is
   * forgotten first. A Map evicting its first key walked, once full, the holes its deletions left at its
   * front on every new call, twice (4 % of the gateway's CPU under bench:calls, issue 28).
   */
  readonly #calls: LRUCache<string, SeenCall>;

  constructor(
    private readonly metrics: GatewayMetrics,
    /** Told of every report taken (the SIP capture shows its MOS beside the call). */
    private readonly onTaken?: (callId: string, report: QualityReport) => void,
    /** Milliseconds since the epoch (tests turn it). */
    now: () => number = Date.now,
  ) {
    this.#calls = new LRUCache({
      max: MAX_CALLS,
      ttl: CALL_TTL_MS,
      // A clock of its own: `performance` as the start-up snapshot saw it is none.
      perf: { now },
    });
  }

  /** A call this gateway routed (its initial INVITE went through). */
  callSeen(callId: string): void {
    if (this.#calls.has(callId)) return;
    // Detached: kept for hours, the Call-ID must not keep its whole INVITE alive.
    this.#calls.set(detached(callId), {});
  }

  /** The report of `party`, a party of the call proven by its call token. */
  take(callId: string, party: string, report: QualityReport): 'taken' | 'unknown call' | 'already reported' {
    const call = this.#calls.get(callId);
    if (!call) return 'unknown call';
    call.reported ??= [];
    const { reported } = call;
    if (reported.includes(party) || reported.length >= REPORTS_PER_CALL) return 'already reported';
    reported.push(party);
    const m = this.metrics;
    m.qualityReports.inc({ direction: report.direction });
    if (report.mos !== undefined) m.callMos.observe(report.mos);
    if (report.setupMs !== undefined) m.callSetup.observe(report.setupMs / 1000);
    for (const ms of report.reconnectMs) m.callReconnect.observe(ms / 1000);
    if (report.reconnects > 0) m.callReconnects.inc(report.reconnects);
    for (const kind of report.warnings) m.callWarnings.inc({ kind });
    this.onTaken?.(callId, report);
    return 'taken';
  }
}
