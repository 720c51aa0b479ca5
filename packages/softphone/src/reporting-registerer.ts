import { type Core, Registerer, type RegistererRegisterOptions } from 'sip.js';

/**
 * A SIP.js Registerer that tells every refusal, the refreshes' too. SIP.js sends its refreshes
 * with `this.register()` and no options, so a refused refresh reached nobody's `onReject`: it only
 * moved the Registerer to "Unregistered", and the page went on saying "registered".
 */
export class ReportingRegisterer extends Registerer {
  /** Called with every final refusal of a REGISTER, before the caller's own `onReject`. */
  onRefused: (response: Core.IncomingResponse) => void = () => {};

  override register(options: RegistererRegisterOptions = {}): Promise<Core.OutgoingRegisterRequest> {
    const delegate = options.requestDelegate;
    return super.register({
      ...options,
      requestDelegate: {
        ...delegate,
        onReject: (response) => {
          this.onRefused(response);
          delegate?.onReject?.(response);
        },
      },
    });
  }
}
