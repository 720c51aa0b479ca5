/**
 * A flow (RFC 5626 §3.1): one client connection the gateway can send SIP on. The transport layer
 * (the WebSocket plugin) creates flows; the SIP layer knows nothing about WebSockets.
 */
export interface Flow {
  readonly id: string;
  /** Via transport token of the connection: WS or WSS (RFC 7118 §5.2). */
  readonly transport: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  send(text: string): void;
  /** Ends the connection (a WebSocket close code, RFC 6455 §7.4). */
  close(code: number, reason: string): void;
  /** The SIP user this flow proved to be (by a successful REGISTER), if any. */
  authenticatedUser?: string;
  /**
   * The client closed it because its page went away (WebSocket 1001 Going Away, or Ringway's
   * page's own 4001 "page closed", sip-websocket.ts): it is not coming
   * back on its own, unlike a connection lost, whose client reconnects through any worker or
   * gateway and registers anew.
   */
  wentAway?: boolean;
}
