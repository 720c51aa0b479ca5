/**
 * The other workers of one gateway (WORKERS > 1). They share the WebSocket port, so a client that
 * reconnects (after a restart, or a worker's death) may land on any of them, while the upstream
 * keeps sending its in-dialog requests to the worker whose Record-Route the dialog holds. A worker
 * therefore takes the dialogs its siblings signed as its own (the same secret signs them all), and
 * hands a request for a client it does not carry to the next worker, round the ring, until one
 * carries it or every worker has seen it (then the last answers 430 Flow Failed).
 */
export interface SiblingWorkers {
  /** How many workers the gateway runs, this one included. */
  count: number;
  /** The upstream-side ports of every worker (UPSTREAM_LOCAL_PORT + index), this one's included. */
  ports: ReadonlySet<number>;
  /** Hands a request of the upstream to the next worker; `hops` counts the workers it has been to. */
  handOver(request: string, hops: number): void;
  /** Where requests handed over by the previous worker go. */
  onHandedOver(listener: (request: string, hops: number) => void): void;
}

/** The message workers and the primary pass between them (Node's cluster IPC). */
export interface HandedOverRequest {
  type: 'ringway.upstream-request';
  /** The worker that handed it over. */
  from: number;
  request: string;
  hops: number;
}

export function isHandedOverRequest(message: unknown): message is HandedOverRequest {
  const m = message as Partial<HandedOverRequest> | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    m.type === 'ringway.upstream-request' &&
    typeof m.from === 'number' &&
    typeof m.request === 'string' &&
    typeof m.hops === 'number'
  );
}

/** The siblings of worker `index` of `count`, over this process's IPC channel to the primary. */
export function clusterSiblings(index: number, count: number, basePort: number): SiblingWorkers {
  return {
    count,
    ports: new Set(Array.from({ length: count }, (_, i) => basePort + i)),
    handOver(request, hops) {
      const message: HandedOverRequest = { type: 'ringway.upstream-request', from: index, request, hops };
      process.send?.(message);
    },
    onHandedOver(listener) {
      process.on('message', (message: unknown) => {
        if (isHandedOverRequest(message)) listener(message.request, message.hops);
      });
    },
  };
}
