// Preloaded into a Vigil child process (NODE_OPTIONS=--import) to run its clock an hour ahead (or
// VIGIL_TEST_CLOCK_OFFSET_MS), as on a machine whose clock is wrong: Date.now() and new Date() are
// shifted; monotonic timers (performance.now, process.hrtime) are not, just as with a real skew.
const offsetMs = Number(process.env.VIGIL_TEST_CLOCK_OFFSET_MS ?? 3_600_000);
const RealDate = Date;
class SkewedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offsetMs);
    else super(...args);
  }
  static now() {
    return RealDate.now() + offsetMs;
  }
}
globalThis.Date = SkewedDate;
