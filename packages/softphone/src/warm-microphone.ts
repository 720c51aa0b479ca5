import type { Web } from 'sip.js';
import { Emitter } from './emitter.js';

/**
 * How long the microphone stays open with no call by default, ms: long enough for the next call
 * of a conversation (a call back, a transfer's consultation) to set up without getUserMedia,
 * short enough that the browser's capture indicator does not stay on for a page left open.
 */
export const DEFAULT_WARM_MICROPHONE_MS = 30_000;

/** Whether any of the tracks has ended for good (`readyState` "ended": unplugged, revoked, stopped). */
export function hasEndedTrack(tracks: ReadonlyArray<Pick<MediaStreamTrack, 'readyState'>>): boolean {
  return tracks.length === 0 || tracks.some((track) => track.readyState === 'ended');
}

/**
 * Local media for calls from one microphone stream opened ahead of them: getUserMedia is on the
 * critical path of a call, so it is paid before anyone dials. With Chromium's fake device it
 * costs a few ms (bench/first-call.mjs, 2026-12-05); a real device may have to start first.
 * Each call gets clones of the tracks, so muting or ending one call does not touch another.
 *
 * An open microphone keeps the browser's capture indicator on (Safari's in its address bar and
 * the system's), which tells the user "this page is listening" while no call is up: so with no
 * call for `keepWarmMs` the stream is released, and the next call opens it again.
 */
export class WarmMicrophone {
  /**
   * The microphone was opened: the browser granted it. Browsers name their devices, and Firefox
   * lists its speakers at all, only once a page holds that permission, which may come after
   * anything else the page waited for (a registration on loopback beats Firefox's getUserMedia).
   */
  readonly opened = new Emitter<void>();
  readonly #keepWarmMs: number;
  #stream: Promise<MediaStream> | undefined;
  #deviceId: string | undefined;
  #inCall = false;
  #releaseTimer: ReturnType<typeof setTimeout> | undefined;

  /** `keepWarmMs`: how long the microphone stays open with no call; 0 releases it at once. */
  constructor(keepWarmMs: number) {
    if (!Number.isFinite(keepWarmMs) || keepWarmMs < 0)
      throw new TypeError(`warmMicrophoneMs is ${keepWarmMs}: expected ms ≥ 0 (0: open only during calls)`);
    this.#keepWarmMs = keepWarmMs;
  }

  /** Whether the microphone is worth opening before a call (`keepWarmMs` > 0). */
  get keepsWarm(): boolean {
    return this.#keepWarmMs > 0;
  }

  /** Opens the microphone now, for a call to come; it is released if none comes within `keepWarmMs`. */
  warm(): Promise<MediaStream> {
    const stream = this.#open();
    this.#releaseWhenQuiet();
    return stream;
  }

  /**
   * Whether any call is live: the microphone stays open while one is (its clones need no source,
   * but the next call, a consultation or a call waiting, would otherwise pay getUserMedia again),
   * and the quiet period starts when the last one ends.
   */
  callsLive(live: boolean): void {
    this.#inCall = live;
    this.#releaseWhenQuiet();
  }

  readonly factory: Web.MediaStreamFactory = async (constraints) => {
    if (constraints.video) return navigator.mediaDevices.getUserMedia(constraints);
    if (!constraints.audio) return new MediaStream();
    let stream = await this.#open();
    // The device was unplugged, or the OS or browser took the permission back: the warm tracks
    // ended, and their clones would send silence in every later call. Ask again.
    if (hasEndedTrack(stream.getTracks())) {
      this.#stream = undefined;
      stream = await this.#open().catch((error: Error) => {
        // The chosen device is the one that went: the default one, rather than no call at all.
        if (this.#deviceId === undefined) throw error;
        this.#deviceId = undefined;
        return this.#open();
      });
    }
    return new MediaStream(stream.getTracks().map((track) => track.clone()));
  };

  /** Switches to another input device for the calls that follow. */
  use(deviceId: string): Promise<MediaStream> {
    this.#release();
    this.#deviceId = deviceId;
    return this.warm();
  }

  /** Releases the microphone and forgets any release to come (the phone stops). */
  stop(): void {
    clearTimeout(this.#releaseTimer);
    this.#release();
  }

  #open(): Promise<MediaStream> {
    if (this.#stream) return this.#stream;
    const audio = this.#deviceId ? { deviceId: { exact: this.#deviceId } } : true;
    const stream = navigator.mediaDevices.getUserMedia({ audio, video: false });
    this.#stream = stream;
    stream.then(
      () => this.opened.emit(),
      () => {
        if (this.#stream === stream) this.#stream = undefined;
      },
    );
    return stream;
  }

  #releaseWhenQuiet(): void {
    clearTimeout(this.#releaseTimer);
    if (this.#inCall) return;
    if (this.#keepWarmMs <= 0) this.#release();
    else this.#releaseTimer = setTimeout(() => this.#release(), this.#keepWarmMs);
  }

  #release(): void {
    // A stream still being asked for is stopped once it comes; one refused has nothing to stop.
    void this.#stream?.then(
      (stream) => {
        for (const track of stream.getTracks()) track.stop();
      },
      () => undefined,
    );
    this.#stream = undefined;
  }
}
