import rateLimit from '@fastify/rate-limit';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { PasswordGuesses } from '../accounts/password-guesses.js';
import type { SignIn, SignInGrant } from '../accounts/sign-in.js';
import { requestOrigin } from './request-origin.js';

/** Password attempts per client address and minute. */
const ATTEMPTS_PER_MINUTE = 10;
/** Renewals per client address and minute (a page renews a few times a day). */
const RENEWALS_PER_MINUTE = 30;

const Password = Type.Object(
  {
    user: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);
const Renewal = Type.Object(
  { renewToken: Type.String({ minLength: 1, maxLength: 512 }) },
  { additionalProperties: false },
);
const Granted = Type.Object({
  user: Type.String(),
  credentials: Type.Object({
    uri: Type.String(),
    authorizationUsername: Type.String(),
    authorizationPassword: Type.String(),
    wsServer: Type.String(),
    /** WS_SERVERS: every gateway of the deployment, to move round when wsServer is gone; none when it is alone. */
    wsServers: Type.Array(Type.String()),
    iceServers: Type.Array(Type.Unknown()),
  }),
  expiresAt: Type.String({ format: 'date-time' }),
  renewAt: Type.String({ format: 'date-time' }),
  renewToken: Type.String(),
  directory: Type.Array(Type.String(), {
    description: 'The other users of USERS_FILE (at most 500), for the contact list',
  }),
});
const ErrorReply = Type.Object({ error: Type.String() });

function reply(grant: SignInGrant, wsServers: readonly string[]): Static<typeof Granted> {
  return {
    user: grant.user,
    credentials: { ...grant.credentials, wsServers: [...wsServers] },
    expiresAt: new Date(grant.credentials.expiresAt).toISOString(),
    renewAt: new Date(grant.renewAt).toISOString(),
    renewToken: grant.renewToken,
    directory: grant.directory,
  };
}

/**
 * `POST /api/sign-in` (user and password → ephemeral SIP and TURN credentials) and
 * `POST /api/sign-in/renew` (a renewal token → fresh ones). A wrong user name and a wrong
 * password get the same 401 and the same words, after the same work.
 *
 * Two limits on passwords: ATTEMPTS_PER_MINUTE per client address (any answer), and the wrong
 * passwords per account and per address that SIP digest counts too (accounts/password-guesses.ts:
 * a SIP device's password signs in here, so guesses there and here add up). Past the latter the
 * password is not checked: 429 with Retry-After.
 */
export default async function signInApi(
  app: FastifyInstance,
  opts: {
    signIn: SignIn;
    /** The wrong passwords of this gateway, shared with SIP digest (accounts/password-guesses.ts). */
    guesses: PasswordGuesses;
    /** WS_SERVERS (config wsServers); none: this gateway alone. */
    wsServers?: readonly string[];
  },
) {
  const { signIn, guesses, wsServers = [] } = opts;
  await app.register(rateLimit, { global: false });

  app.post(
    '/api/sign-in',
    {
      config: { rateLimit: { max: ATTEMPTS_PER_MINUTE, timeWindow: '1 minute' } },
      schema: {
        summary: 'Sign in with a user name and password; the reply carries SIP and TURN credentials',
        body: Password,
        response: { 200: Granted, 401: ErrorReply, 429: ErrorReply },
      },
    },
    async (request, response) => {
      const { user, password } = request.body as Static<typeof Password>;
      const admission = guesses.admit(user, request.ip);
      if (!admission.ok) {
        const seconds = Math.ceil(admission.retryAfterMs / 1000);
        request.log.info({ limit: admission.limit, retryAfter: seconds }, 'sign-in refused unchecked');
        return response
          .code(429)
          .header('Retry-After', String(seconds))
          .send({ error: `too many wrong passwords; try again in ${seconds} s` });
      }
      if (!(await signIn.check(user, password))) {
        guesses.failed(user, request.ip);
        request.log.info('sign-in refused');
        return response.code(401).send({ error: 'wrong user name or password' });
      }
      request.log.info({ user }, 'signed in');
      return reply(signIn.grant(user, requestOrigin(request).ws, Date.now()), wsServers);
    },
  );

  app.post(
    '/api/sign-in/renew',
    {
      config: { rateLimit: { max: RENEWALS_PER_MINUTE, timeWindow: '1 minute' } },
      schema: {
        summary: 'Renew the credentials of a sign-in before they expire',
        body: Renewal,
        response: { 200: Granted, 401: ErrorReply },
      },
    },
    async (request, response) => {
      const { renewToken } = request.body as Static<typeof Renewal>;
      const renewal = signIn.renewal(renewToken);
      if (!renewal) return response.code(401).send({ error: 'sign in again' });
      return reply(signIn.grant(renewal.user, requestOrigin(request).ws, renewal.signedInAt), wsServers);
    },
  );
}
