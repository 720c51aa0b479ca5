import { actionFailure, type UserAction } from './action-outcome.js';
import { $ } from './dom.js';

/**
 * The page's one error banner (role=alert, in the header, so on every screen): what failed and
 * why, in place of the last failure. What the person does next clears it. Every failure the page
 * shows goes through here; states that are not failures (registration, a call's end, a chat
 * message's delivery) stay where they belong.
 */
export function showError(action: UserAction, text: string): void {
  const banner = $('action-error');
  console.warn(`[ringway] ${text}`);
  banner.textContent = text;
  banner.dataset.action = action;
  banner.hidden = false;
}

/** The banner for a failed action: the action's words (action-outcome.ts), then the reason. */
export function showFailure(action: UserAction, reason: unknown): void {
  showError(action, actionFailure(action, reason));
}

export function clearError(): void {
  const banner = $('action-error');
  banner.hidden = true;
  banner.textContent = '';
  delete banner.dataset.action;
}

/** Runs what a person asked for: the banner clears, and shows the reason if it fails. */
export function attempt(action: UserAction, run: () => unknown): Promise<void> {
  clearError();
  return Promise.resolve()
    .then(run)
    .then(
      () => undefined,
      (error: unknown) => showFailure(action, error),
    );
}
