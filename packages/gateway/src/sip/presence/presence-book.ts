import type { CallEvent } from '../proxy/proxy-core.js';
import { SetIndex } from '../set-index.js';

/** One call of a user as the dialog event package tells it (RFC 4235 §4.1). */
export interface UserDialog {
  /** The call's Call-ID: a watcher only needs it to tell two calls apart. */
  id: string;
  direction: 'initiator' | 'recipient';
  /** `early` while it rings, `confirmed` once answered (RFC 4235 §3.7.1). */
  state: 'early' | 'confirmed';
  /**
   * What a colleague needs to pick up a call ringing for this user (an INVITE to the caller with
   * Replaces, RFC 3891 early-only): given only for a ringing call with an early dialog.
   */
  pickup?: { callId: string; calleeTag: string; callerTag: string; caller: string };
}

/** What a watcher may learn of a user: registered or not, and the calls the proxy carries. */
export interface UserPresence {
  online: boolean;
  dialogs: UserDialog[];
}

interface TrackedCall {
  caller: string | undefined;
  callee: string | undefined;
  state: UserDialog['state'];
  callerTag: string | undefined;
  /** The callee's To tag from its first provisional answer with one (the early dialog). */
  calleeTag: string | undefined;
}

/**
 * Calls tracked at most. The proxy bounds its transactions; answered calls have no transaction
 * left, so this bounds them on their own: past it the oldest is forgotten (its watchers see it
 * end early, never a map that grows without end).
 */
const MAX_CALLS = 50_000;

/**
 * The presence of the registrar's own users, kept from what the gateway itself saw: bindings in
 * the location service (online or not) and the calls its proxy carried (ringing, on a call).
 * Only authenticated requests reach either, so nothing here comes from an unproven message.
 */
export class PresenceBook {
  readonly #calls = new Map<string, TrackedCall>();
  /** Call-IDs by party, so that a user's state is read from their own calls only. */
  readonly #byUser = new SetIndex<string, string>();
  readonly #online: (user: string) => boolean;
  readonly #changed: (user: string) => void;

  constructor(deps: { online: (user: string) => boolean; changed: (user: string) => void }) {
    this.#online = deps.online;
    this.#changed = deps.changed;
  }

  of(user: string): UserPresence {
    const dialogs: UserDialog[] = [];
    for (const id of this.#byUser.get(user)) {
      const call = this.#calls.get(id) as TrackedCall;
      if (call.caller === user) dialogs.push({ id, direction: 'initiator', state: call.state });
      if (call.callee === user) {
        const { caller, callerTag, calleeTag } = call;
        const pickable = call.state === 'early' && caller && callerTag && calleeTag;
        dialogs.push({
          id,
          direction: 'recipient',
          state: call.state,
          ...(pickable ? { pickup: { callId: id, calleeTag, callerTag, caller } } : {}),
        });
      }
    }
    return { online: this.#online(user), dialogs };
  }

  /** A user's bindings changed. Going offline ends the calls they were on: no BYE will come. */
  registrationChanged(user: string): void {
    if (!this.#online(user)) {
      for (const id of this.#byUser.get(user)) this.#end(id, this.#calls.get(id) as TrackedCall);
    }
    this.#changed(user);
  }

  callEvent(event: CallEvent): void {
    const known = this.#calls.get(event.callId);
    switch (event.type) {
      case 'invite': {
        if (known) return;
        if (this.#calls.size >= MAX_CALLS) {
          const [oldestId, oldest] = this.#calls.entries().next().value as [string, TrackedCall];
          this.#end(oldestId, oldest);
        }
        const call: TrackedCall = {
          caller: event.fromUser,
          callee: event.toUser,
          state: 'early',
          callerTag: event.fromTag,
          calleeTag: undefined,
        };
        this.#calls.set(event.callId, call);
        for (const party of parties(call)) this.#byUser.add(party, event.callId);
        this.#tell(call);
        return;
      }
      case 'ringing':
        if (!known || known.calleeTag !== undefined || event.toTag === undefined) return;
        known.calleeTag = event.toTag;
        this.#tell(known);
        return;
      case 'answered':
        if (!known || known.state === 'confirmed') return;
        known.state = 'confirmed';
        this.#tell(known);
        return;
      case 'rejected':
      case 'bye':
        if (known) this.#end(event.callId, known);
        return;
      case 'reinvite':
        return;
    }
  }

  #end(id: string, call: TrackedCall): void {
    this.#calls.delete(id);
    for (const party of parties(call)) this.#byUser.delete(party, id);
    this.#tell(call);
  }

  #tell(call: TrackedCall): void {
    for (const party of parties(call)) this.#changed(party);
  }
}

/** The users on a call, each once (someone may call themselves). */
function parties(call: TrackedCall): Set<string> {
  return new Set([call.caller, call.callee].filter((user): user is string => user !== undefined));
}
