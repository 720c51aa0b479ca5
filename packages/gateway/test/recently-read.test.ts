import { describe, expect, it } from '@jest/globals';
import { recentlyRead } from '../src/sip/recently-read.js';

describe('recentlyRead', () => {
  const counting = (size: number) => {
    const reads: string[] = [];
    const read = recentlyRead((text: string) => {
      reads.push(text);
      return text.startsWith('bad') ? undefined : { text };
    }, size);
    return { read, reads };
  };

  it('reads a text once while it is among the last `size` read, and returns the same reading', () => {
    const { read, reads } = counting(2);
    const first = read('a');
    read('b');
    expect(read('a')).toBe(first);
    expect(reads).toEqual(['a', 'b']);
  });

  it('reads again a text that `size` newer ones pushed out', () => {
    const { read, reads } = counting(2);
    read('a');
    read('b');
    read('c');
    read('a');
    expect(reads).toEqual(['a', 'b', 'c', 'a']);
  });

  it('remembers an undefined reading (a malformed value) too', () => {
    const { read, reads } = counting(2);
    expect(read('bad value')).toBeUndefined();
    expect(read('bad value')).toBeUndefined();
    expect(reads).toEqual(['bad value']);
  });
});
