import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The gateway's Prometheus metrics, on a registry of its own so that several gateways in one
 * process (tests, benchmarks) do not collide.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = {
    registry,
    connections: new Gauge({
      name: 'ringway_ws_connections',
      help: 'Open SIP WebSocket connections',
      registers: [registry],
    }),
    connectionCloses: new Counter({
      name: 'ringway_ws_closes_total',
      help: "SIP WebSocket connections ended, by the close code the client sent: 1000 (closed), 1001 (its page went away), 4001 (Ringway's page closed), 1005/1006 (no close frame: the connection was lost), other",
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    bindings: new Gauge({
      name: 'ringway_registrar_bindings',
      help: 'Registered contacts',
      registers: [registry],
    }),
    subscriptions: new Gauge({
      name: 'ringway_presence_subscriptions',
      help: 'Live presence and dialog-event subscriptions to the embedded registrar',
      registers: [registry],
    }),
    transactions: new Gauge({
      name: 'ringway_proxy_transactions',
      help: 'Proxy server transactions in memory (in progress or lingering)',
      registers: [registry],
    }),
    calls: new Counter({
      name: 'ringway_calls_total',
      help: 'Initial INVITEs by final status sent to the caller',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    codecs: new Counter({
      name: 'ringway_call_codecs_total',
      help: 'Answered calls by the audio codec they negotiated',
      labelNames: ['codec'] as const,
      registers: [registry],
    }),
    upstreamUp: new Gauge({
      name: 'ringway_upstream_up',
      help: 'Whether the upstream SIP server answers keep-alives (upstream mode)',
      registers: [registry],
    }),
    upstreamUnregisters: new Counter({
      name: 'ringway_upstream_unregisters_total',
      help: 'Closed WebSocket flows whose contacts the gateway unregistered upstream, by outcome (removed, refused, timeout, dropped)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    parseErrors: new Counter({
      name: 'ringway_sip_parse_errors_total',
      help: 'Malformed SIP messages',
      registers: [registry],
    }),
    internalErrors: new Counter({
      name: 'ringway_sip_internal_errors_total',
      help: 'SIP messages whose handling failed on a fault of the gateway (answered 500); should stay 0',
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'ringway_sip_rejected_total',
      help: 'Messages refused before routing, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    qualityReports: new Counter({
      name: 'ringway_call_quality_reports_total',
      help: 'Call quality reports taken from softphones, by the side that sent them',
      labelNames: ['direction'] as const,
      registers: [registry],
    }),
    callMos: new Histogram({
      name: 'ringway_call_mos',
      help: 'Estimated MOS (E-model) of calls, as their softphones reported it',
      buckets: [1, 1.5, 2, 2.5, 3, 3.5, 4, 4.3, 4.5],
      registers: [registry],
    }),
    callSetup: new Histogram({
      name: 'ringway_call_setup_seconds',
      help: 'Dial to media connected, as callers reported it',
      buckets: [0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2, 5],
      registers: [registry],
    }),
    callReconnect: new Histogram({
      name: 'ringway_call_reconnect_seconds',
      help: 'Signalling lost to media back, per reconnection in a live call',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
    callReconnects: new Counter({
      name: 'ringway_call_reconnects_total',
      help: 'Reconnections of live calls, as softphones reported them',
      registers: [registry],
    }),
    callWarnings: new Counter({
      name: 'ringway_call_warnings_total',
      help: 'Calls with one-way audio warnings, by kind (no-input, no-output)',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    handling: new Histogram({
      name: 'ringway_sip_handling_seconds',
      help: 'Time to handle one incoming SIP message',
      labelNames: ['kind'] as const,
      buckets: [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1],
      registers: [registry],
    }),
  };
  // Labels from a fixed set start at 0, so that the dashboard's one-way-audio rate reads 0 and
  // not "no data" on a gateway without warnings, and a rate() sees the first one counted (a series
  // that appears at 1 has no increase); answered calls too, the one status every gateway sends.
  metrics.calls.inc({ status: '200' }, 0);
  for (const direction of ['outgoing', 'incoming'] as const) metrics.qualityReports.inc({ direction }, 0);
  for (const kind of ['no-input', 'no-output'] as const) metrics.callWarnings.inc({ kind }, 0);
  return metrics;
}

export type GatewayMetrics = ReturnType<typeof createMetrics>;
