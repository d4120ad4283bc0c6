/**
 * How the producer packs claimed hosts into check jobs. The queue writes three rows per job
 * (created, fetched, completed) whatever the job carries, so hosts due together share a job.
 * Only hosts the queue would treat alike share one: the same lane and priority (pg-boss orders
 * and prioritises jobs, not the hosts in them) and no group — pg-boss limits a group's concurrent
 * jobs, so a grouped host gets a job of its own and the group's limit keeps counting checks.
 */

export interface PackableHost {
  hostId: string;
  queue: string;
  priority: number;
  group: string | null;
}

export interface PackedJob<H extends PackableHost> {
  queue: string;
  priority: number;
  hosts: H[];
}

/** Packs hosts into jobs of at most `perJob`, keeping the order hosts came in within each job. */
export function packChecks<H extends PackableHost>(hosts: H[], perJob: number): PackedJob<H>[] {
  const jobs: PackedJob<H>[] = [];
  const open = new Map<string, PackedJob<H>>();
  for (const host of hosts) {
    if (host.group !== null) {
      jobs.push({ queue: host.queue, priority: host.priority, hosts: [host] });
      continue;
    }
    const key = `${host.queue}\u0000${host.priority}`;
    let job = open.get(key);
    if (!job || job.hosts.length >= perJob) {
      job = { queue: host.queue, priority: host.priority, hosts: [] };
      jobs.push(job);
      open.set(key, job);
    }
    job.hosts.push(host);
  }
  return jobs;
}
