import { describe, expect, it } from 'vitest';
import { runOrder } from './bench';
import { placeClients } from './scenarios/traffic';

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

describe('placing clients on gateways', () => {
  const urls = ['a', 'b', 'c'];
  it('spreads consecutive clients, so a room of 4 spans all 3 gateways', () => {
    expect(placeClients(urls, 8, 4, 'spread')).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b']);
  });
  it('puts every member of a room on one gateway, rooms in turn', () => {
    expect(placeClients(urls, 14, 4, 'room')).toEqual([
      ...['a', 'a', 'a', 'a'],
      ...['b', 'b', 'b', 'b'],
      ...['c', 'c', 'c', 'c'],
      ...['a', 'a'],
    ]);
  });
});
