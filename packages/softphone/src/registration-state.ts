/**
 * Registration of a phone with the gateway, as the page shows it.
 *
 * Valid transitions:
 * 1. "unregistered" --> "registering"  (start, or retry after failure)
 * 2. "registering" --> "registered"    (200 to REGISTER)
 * 3. "registering" --> "failed"        (REGISTER refused, e.g. 401/403, or no answer in time)
 * 4. "registering" --> "reconnecting"  (the WebSocket dropped while registering)
 * 5. "registered" --> "reconnecting"   (the WebSocket dropped: the phone reconnects with backoff)
 * 6. "reconnecting" --> "registering"  (the WebSocket is back: register again)
 * 7. "registered" --> "unregistered"   (the user signed out, or the server ended the registration: a
 *                                       refresh refused, e.g. 401/403, or none accepted before it
 *                                       expired; `Phone.registrationFailure` says which)
 * 8. "failed" --> "registering"        (the user tries again)
 * 9. "reconnecting" --> "unregistered" (the user signed out while reconnecting)
 * 10. "unregistered" --> "reconnecting" (the WebSocket dropped after the server ended the
 *                                       registration: the phone reconnects and registers again)
 */
export enum RegistrationState {
  Unregistered = 'unregistered',
  Registering = 'registering',
  Registered = 'registered',
  Reconnecting = 'reconnecting',
  Failed = 'failed',
}

export const REGISTRATION_TRANSITIONS = [
  [RegistrationState.Unregistered, RegistrationState.Registering],
  [RegistrationState.Registering, RegistrationState.Registered],
  [RegistrationState.Registering, RegistrationState.Failed],
  [RegistrationState.Registering, RegistrationState.Reconnecting],
  [RegistrationState.Registered, RegistrationState.Reconnecting],
  [RegistrationState.Reconnecting, RegistrationState.Registering],
  [RegistrationState.Registered, RegistrationState.Unregistered],
  [RegistrationState.Failed, RegistrationState.Registering],
  [RegistrationState.Reconnecting, RegistrationState.Unregistered],
  [RegistrationState.Unregistered, RegistrationState.Reconnecting],
] as const;
