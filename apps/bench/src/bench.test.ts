import { describe, expect, it } from 'vitest';
import { runOrder } from './bench';

describe('the order of targets in a repetition', () => {
  it('rotates by one each repetition, so every target runs once in every place over as many repetitions', () => {
    const targets = ['plain', 'chorus-1', "chorus-1'"];
    const reps = [1, 2, 3, 4].map((rep) => runOrder(targets, rep));
    expect(reps).toEqual([
      ['plain', 'chorus-1', "chorus-1'"],
      ['chorus-1', "chorus-1'", 'plain'],
      ["chorus-1'", 'plain', 'chorus-1'],
      ['plain', 'chorus-1', "chorus-1'"],
    ]);
    for (let place = 0; place < targets.length; place++) {
      expect(new Set(reps.slice(0, 3).map((order) => order[place]))).toEqual(new Set(targets));
    }
    expect(targets).toEqual(['plain', 'chorus-1', "chorus-1'"]);
    expect(runOrder([], 2)).toEqual([]);
  });
});
