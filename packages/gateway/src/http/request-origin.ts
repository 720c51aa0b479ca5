import type { FastifyRequest } from 'fastify';

/** The page's own origin and SIP WebSocket, as the browser reached this gateway. */
export function requestOrigin(request: FastifyRequest): { http: string; ws: string } {
  const host = request.headers.host ?? 'localhost';
  const secure = request.protocol === 'https';
  return { http: `${secure ? 'https' : 'http'}://${host}`, ws: `${secure ? 'wss' : 'ws'}://${host}/sip` };
}
