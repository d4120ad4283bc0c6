/** A wake-up call for a loop that sleeps: `sleep(ms)` ends after `ms` or at the next `wake()`. */
export class Wakeup {
  private waiters: (() => void)[] = [];

  wake(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      }, Math.max(0, ms));
      this.waiters.push(done);
    });
  }
}
