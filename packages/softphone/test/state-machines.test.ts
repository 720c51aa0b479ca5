import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { CALL_TRANSITIONS, CallState } from '../src/call-state.js';
import { REGISTRATION_TRANSITIONS, RegistrationState } from '../src/registration-state.js';
import { StateMachine, StateTransitionError } from '../src/state-machine.js';

beforeEach(() => {
  jest.useFakeTimers();
});
afterEach(() => {
  jest.useRealTimers();
});

const ALL_CALL_STATES = Object.values(CallState);
const ALL_REGISTRATION_STATES = Object.values(RegistrationState);

function callMachine(onTimeout = (_state: CallState) => {}) {
  return new StateMachine<CallState>({
    initial: CallState.Idle,
    transitions: CALL_TRANSITIONS,
    timeouts: { dialing: 32_000, ringing: 60_000, connecting: 10_000, reconnecting: 30_000 },
    onTimeout,
  });
}

/** Drives a fresh machine to `state` along the listed transitions. */
function reach(state: CallState): StateMachine<CallState> {
  const paths: Record<CallState, CallState[]> = {
    idle: [],
    dialing: [CallState.Dialing],
    ringing: [CallState.Ringing],
    connecting: [CallState.Ringing, CallState.Connecting],
    active: [CallState.Ringing, CallState.Connecting, CallState.Active],
    held: [CallState.Ringing, CallState.Connecting, CallState.Active, CallState.Held],
    reconnecting: [CallState.Ringing, CallState.Connecting, CallState.Active, CallState.Reconnecting],
    ended: [CallState.Dialing, CallState.Ended],
    failed: [CallState.Dialing, CallState.Failed],
  };
  const machine = callMachine();
  for (const next of paths[state]) machine.transition(next);
  return machine;
}

describe('the call state machine', () => {
  const allowed = new Set(CALL_TRANSITIONS.map(([from, to]) => `${from}>${to}`));
  const pairs = ALL_CALL_STATES.flatMap((from) => ALL_CALL_STATES.map((to) => [from, to] as const));

  it.each(pairs.filter(([from, to]) => allowed.has(`${from}>${to}`)))(
    'allows %s → %s and says so on stateChange',
    (from, to) => {
      const machine = reach(from);
      const seen: CallState[] = [];
      machine.stateChange.addListener((state) => seen.push(state));
      machine.transition(to);
      expect(machine.state).toBe(to);
      expect(seen).toEqual([to]);
    },
  );

  it.each(pairs.filter(([from, to]) => !allowed.has(`${from}>${to}`)))(
    'refuses %s → %s with StateTransitionError',
    (from, to) => {
      const machine = reach(from);
      expect(() => machine.transition(to)).toThrow(StateTransitionError);
      expect(machine.state).toBe(from);
    },
  );

  it.each([
    [CallState.Dialing, 32_000],
    [CallState.Ringing, 60_000],
    [CallState.Connecting, 10_000],
    [CallState.Reconnecting, 30_000],
  ])('times out in %s after %i ms, and not a moment before', (state, ms) => {
    const timedOut: CallState[] = [];
    const machine = callMachine((s) => timedOut.push(s));
    const before = {
      [CallState.Connecting]: [CallState.Ringing],
      [CallState.Reconnecting]: [CallState.Ringing, CallState.Connecting, CallState.Active],
    } as Partial<Record<CallState, CallState[]>>;
    for (const step of before[state] ?? []) machine.transition(step);
    machine.transition(state);
    jest.advanceTimersByTime(ms - 1);
    expect(timedOut).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(timedOut).toEqual([state]);
  });

  it('a state left in time does not time out', () => {
    const timedOut: CallState[] = [];
    const machine = callMachine((s) => timedOut.push(s));
    machine.transition(CallState.Ringing);
    jest.advanceTimersByTime(59_000);
    machine.transition(CallState.Connecting);
    jest.advanceTimersByTime(9_000);
    machine.transition(CallState.Active);
    jest.advanceTimersByTime(600_000);
    expect(timedOut).toEqual([]);
  });

  it('active and held have no timeout', () => {
    const timedOut: CallState[] = [];
    const machine = callMachine((s) => timedOut.push(s));
    for (const next of [CallState.Ringing, CallState.Connecting, CallState.Active, CallState.Held])
      machine.transition(next);
    jest.advanceTimersByTime(3_600_000);
    expect(timedOut).toEqual([]);
  });
});

describe('the registration state machine', () => {
  const allowed = new Set(REGISTRATION_TRANSITIONS.map(([from, to]) => `${from}>${to}`));

  it.each(
    ALL_REGISTRATION_STATES.flatMap((from) => ALL_REGISTRATION_STATES.map((to) => [from, to] as const)),
  )('%s → %s is allowed exactly when the table lists it', (from, to) => {
    const machine = new StateMachine<RegistrationState>({
      initial: from,
      transitions: REGISTRATION_TRANSITIONS,
    });
    if (allowed.has(`${from}>${to}`)) {
      machine.transition(to);
      expect(machine.state).toBe(to);
    } else {
      expect(() => machine.transition(to)).toThrow(`invalid state transition from "${from}" to "${to}"`);
    }
  });

  it('times out while registering after 10 s', () => {
    const timedOut: string[] = [];
    const machine = new StateMachine<RegistrationState>({
      initial: RegistrationState.Unregistered,
      transitions: REGISTRATION_TRANSITIONS,
      timeouts: { registering: 10_000 },
      onTimeout: (s) => timedOut.push(s),
    });
    machine.transition(RegistrationState.Registering);
    jest.advanceTimersByTime(10_000);
    expect(timedOut).toEqual(['registering']);
  });
});
