/**
 * A system notification for an incoming call while the page is hidden (another tab, minimised):
 * the ring alone may not be heard. Clicking it brings the page back with Answer focused.
 * Shown only with the person's permission, asked for by a button (browsers refuse to ask unprompted).
 */
export class IncomingNotification {
  #shown: Notification | undefined;

  get permission(): NotificationPermission | 'unsupported' {
    return 'Notification' in window ? Notification.permission : 'unsupported';
  }

  async ask(): Promise<NotificationPermission | 'unsupported'> {
    if (!('Notification' in window)) return 'unsupported';
    return Notification.requestPermission();
  }

  /** Shows it when the page is hidden and the person allowed it; returns whether it did. */
  show(caller: string, onClick: () => void): boolean {
    if (document.visibilityState !== 'hidden' || this.permission !== 'granted') return false;
    this.close();
    const notification = new Notification('Incoming call', {
      body: caller,
      tag: 'ringway-incoming',
      requireInteraction: true,
    });
    notification.onclick = () => {
      window.focus();
      onClick();
      notification.close();
    };
    this.#shown = notification;
    return true;
  }

  close(): void {
    this.#shown?.close();
    this.#shown = undefined;
  }
}
