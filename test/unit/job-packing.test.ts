import { describe, expect, it } from 'vitest';
import { packChecks, type PackableHost } from '../../src/queue/job-packing.ts';

const host = (hostId: string, over: Partial<PackableHost> = {}): PackableHost => ({ hostId, queue: 'checks', priority: 3, group: null, ...over });
const ids = (jobs: { hosts: PackableHost[] }[]) => jobs.map((j) => j.hosts.map((h) => h.hostId));

describe('packChecks', () => {
  it('fills jobs up to the limit, keeping the order hosts came in', () => {
    const hosts = Array.from({ length: 7 }, (_, i) => host(`h${i}`));
    expect(ids(packChecks(hosts, 3))).toEqual([['h0', 'h1', 'h2'], ['h3', 'h4', 'h5'], ['h6']]);
  });

  it('never mixes lanes or priorities in one job', () => {
    const jobs = packChecks([host('a'), host('b', { priority: 9 }), host('c', { queue: 'failing' }), host('d'), host('e', { priority: 9 })], 10);
    expect(jobs.map((j) => [j.queue, j.priority, j.hosts.map((h) => h.hostId)])).toEqual([
      ['checks', 3, ['a', 'd']], ['checks', 9, ['b', 'e']], ['failing', 3, ['c']],
    ]);
  });

  it('gives a host in a group a job of its own, so a group limit counts checks', () => {
    const jobs = packChecks([host('a', { group: 'g' }), host('b', { group: 'g' }), host('c'), host('d')], 10);
    expect(ids(jobs)).toEqual([['a'], ['b'], ['c', 'd']]);
  });

  it('makes one job per host with a limit of 1', () => {
    expect(ids(packChecks([host('a'), host('b')], 1))).toEqual([['a'], ['b']]);
  });
});
