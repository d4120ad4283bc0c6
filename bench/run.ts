/**
 * `npm run bench -- [options]`: Vigil against a simulated fleet on this machine, beside the raw
 * probe baseline; writes bench/results/<timestamp>.json and prints markdown tables. See
 * bench/options.ts for the options and README.md ("Performance") for how to read the report.
 *
 * Exit status: 0 done, 1 the run failed, 2 bad options, 130 interrupted. Every child process is
 * stopped and every database this run created is dropped in each case.
 */
import { ChildRegistry } from './children.ts';
import { openBenchServer, type BenchServer } from './database.ts';
import { lifetimeMs, runBenchmark } from './benchmark.ts';
import { renderMarkdown } from './markdown.ts';
import { BenchUsageError, parseBenchOptions, USAGE, type BenchOptions } from './options.ts';
import { writeReport } from './report.ts';

const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

function parseOrExit(): BenchOptions {
  try {
    const opts = parseBenchOptions(process.argv.slice(2));
    if (!opts) {
      console.log(USAGE);
      process.exit(0);
    }
    return opts;
  } catch (err) {
    if (!(err instanceof BenchUsageError)) throw err;
    console.error(`bench: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const opts = parseOrExit();
  const registry = new ChildRegistry();
  let server: BenchServer | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await registry.stopAll(5000);
      await server?.close();
      registry.dispose();
    })());
  const abort = (why: string, code: number) => {
    log(`${why}: stopping every child process and dropping the bench databases`);
    void cleanup().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => abort('interrupted', 130));
  process.once('SIGTERM', () => abort('terminated', 143));
  const watchdog = setTimeout(() => abort(`still running after ${Math.round(lifetimeMs(opts) / 1000)} s`, 1), lifetimeMs(opts));
  watchdog.unref();
  try {
    server = await openBenchServer(process.env.DATABASE_URL);
    log(`PostgreSQL: ${server.kind === 'external' ? 'DATABASE_URL' : 'embedded'}`);
    const report = await runBenchmark(opts, { registry, server, log });
    const file = await writeReport(report, opts.resultsDir);
    console.log(renderMarkdown(report));
    console.log(`\nreport written to ${file}`);
  } finally {
    clearTimeout(watchdog);
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
