import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from '@jest/globals';
import { detached } from '../src/sip/message.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('detached', () => {
  it('returns an equal string, non-ASCII and lone surrogates included', () => {
    for (const text of ['', 'a', 'x'.repeat(13), 'Alice Müller <sip:ä@日本.test>', '\u{1F600}', '\ud800x'])
      expect(detached(text)).toBe(text);
  });

  it('keeps none of the message it was cut from alive', () => {
    gc();
    const before = process.memoryUsage().heapUsed;
    // 500 messages of 64 KB: kept as slices, they would hold 32 MB.
    const kept = Array.from({ length: 500 }, (_, i) =>
      detached(`${i}:${'x'.repeat(65536)}`.concat('').substring(10, 110)),
    );
    gc();
    expect(kept).toHaveLength(500);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(8 * 1048576);
  });
});
