import { SingleBar } from 'cli-progress';

/** Reports progress of a long job: a bar (items, rate, ETA) on a terminal, one line per update in logs and pipes. */
export interface Progress {
  update(done: number): void;
  stop(): void;
}

export function startProgress(what: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  const started = Date.now();
  if (stream.isTTY) {
    const bar = new SingleBar({ format: `${what} [{bar}] {value}/{total} | {rate}/s | ETA {eta_formatted}`, stream, hideCursor: true, etaBuffer: 20 });
    bar.start(total, 0, { rate: 0 });
    return {
      update: (done) => bar.update(done, { rate: rateOf(done, started) }),
      stop: () => bar.stop(),
    };
  }
  return {
    update: (done) => {
      const rate = rateOf(done, started);
      const eta = rate > 0 ? Math.round((total - done) / rate) : 0;
      stream.write(`${what}: ${done}/${total} (${rate}/s, ETA ${eta} s)\n`);
    },
    stop: () => {},
  };
}

const rateOf = (done: number, started: number) => Math.round(done / Math.max(0.001, (Date.now() - started) / 1000));
