import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Every process the benchmark starts (fleet, baseline loops, Vigil roles) goes through one
 * registry, so an interrupted or failed run kills all of them: on normal cleanup, on SIGINT, and
 * as a last resort on the orchestrator's 'exit'.
 */

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Tracked {
  label: string;
  pid: number;
  child: ChildProcess;
  exit: Promise<ChildExit>;
  exited: boolean;
  /** The last OUTPUT_KEPT characters of stdout and stderr. */
  output(): string;
  /** Lines that look like warn/error log entries (Vigil logs JSON lines with a level). */
  problemLines: number;
}

export interface SpawnOptions {
  env: Record<string, string>;
  /** Extra node flags before the script (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** An IPC channel (for the fleet and baseline processes). */
  ipc?: boolean;
  /** Echo the child's stderr to ours (for children whose output is the user's business). */
  echoStderr?: boolean;
}

const OUTPUT_KEPT = 64 * 1024;

export class ChildRegistry {
  private readonly children = new Set<Tracked>();
  private readonly onExit = () => this.killAll('SIGKILL');

  constructor() {
    process.on('exit', this.onExit);
  }

  /** Runs `node <script> ...args` with exactly `env` plus PATH and HOME. */
  spawnNode(label: string, script: string, args: string[], opts: SpawnOptions): Tracked {
    const stdio = opts.ipc ? (['ignore', 'pipe', 'pipe', 'ipc'] as const) : (['ignore', 'pipe', 'pipe'] as const);
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...opts.env };
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), script, ...args], { env, stdio: [...stdio] });
    if (child.pid === undefined) throw new Error(`could not start ${label} (${script})`);
    let output = '';
    const tracked: Tracked = {
      label,
      pid: child.pid,
      child,
      exited: false,
      problemLines: 0,
      output: () => output,
      exit: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    };
    const collect = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      tracked.problemLines += (text.match(/"level":"(warn|error)"/g) ?? []).length;
      output = (output + text).slice(-OUTPUT_KEPT);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', (chunk: Buffer) => {
      collect(chunk);
      if (opts.echoStderr) process.stderr.write(chunk);
    });
    this.children.add(tracked);
    void tracked.exit.then(() => {
      tracked.exited = true;
      this.children.delete(tracked);
    });
    return tracked;
  }

  /** Sends `signal` to every child still running (each by its own pid). */
  killAll(signal: NodeJS.Signals): void {
    for (const t of this.children) if (!t.exited) t.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it ended. */
  async stop(t: Tracked, graceMs: number): Promise<ChildExit> {
    if (!t.exited) t.child.kill('SIGTERM');
    const timer = setTimeout(() => t.child.kill('SIGKILL'), graceMs);
    try {
      return await t.exit;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops every child still running, all at once, each with the grace period. */
  async stopAll(graceMs: number): Promise<void> {
    await Promise.all([...this.children].map((t) => this.stop(t, graceMs)));
  }

  dispose(): void {
    process.removeListener('exit', this.onExit);
  }
}

/** Resolves with the child's first IPC message of `type`; rejects if it exits or `timeoutMs` passes first. */
export function nextMessage<T extends { type: string }>(t: Tracked, type: T['type'], timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      if ((message as { type?: string } | null)?.type !== type) return;
      done();
      resolve(message as T);
    };
    const onExit = () => {
      done();
      reject(new Error(`${t.label} exited before sending "${type}":\n${t.output().slice(-4000)}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${t.label} sent no "${type}" within ${timeoutMs} ms:\n${t.output().slice(-4000)}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      t.child.off('message', onMessage);
      t.child.off('exit', onExit);
    };
    t.child.on('message', onMessage);
    t.child.once('exit', onExit);
  });
}

/** In a child: exit when the parent goes away, and in any case after `lifetimeMs`. */
export function exitWithParent(lifetimeMs: number): void {
  process.on('disconnect', () => process.exit(0));
  setTimeout(() => {
    console.error(`${process.argv[1]}: lifetime of ${lifetimeMs} ms reached, exiting`);
    process.exit(3);
  }, lifetimeMs).unref();
}
