// The batch's scheduler: the lines in file order, at most `concurrency` at once, none started once
// the batch is stopping (Ctrl-C, or fal refused the key). On Ctrl-C it returns without waiting for
// the jobs being followed (they go on on fal, paid for; a resume collects them), but only after
// every submit under way has settled, so that each one's request id is in the journal.

export interface SchedulerOptions {
  /** Lines at once. */
  concurrency: number;
  /** Ctrl-C. */
  interrupt: AbortSignal;
  /** No new line starts once this holds (the interrupt, or a refused key). */
  stopping: () => boolean;
  /** The number of lines being run changed. */
  onRunning: (count: number) => void;
  /** Interrupted with submits under way: they are being waited for. */
  onWaiting: (count: number) => void;
}

export interface Scheduler {
  /**
   * Marks work an interrupted batch must wait for (a submit and the journal record of its id);
   * gives its outcome.
   */
  guard<T>(work: Promise<T>): Promise<T>;
  /**
   * Runs `runOne` on each item; resolves when all are done, or, interrupted, when the guarded work
   * has settled (`running`: the lines still under way then). Rejects if `runOne` does.
   */
  run<T>(items: readonly T[], runOne: (item: T) => Promise<void>): Promise<{ interrupted: boolean; running: number }>;
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  const underWay = new Set<Promise<unknown>>();
  let running = 0;

  function guard<T>(work: Promise<T>): Promise<T> {
    underWay.add(work);
    return work.finally(() => underWay.delete(work));
  }

  async function run<T>(items: readonly T[], runOne: (item: T) => Promise<void>) {
    let next = 0;
    const worker = async () => {
      while (next < items.length && !options.stopping()) {
        const item = items[next++]!;
        options.onRunning(++running);
        try {
          await runOne(item);
        } finally {
          options.onRunning(--running);
        }
      }
    };
    const workers = Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, items.length)) }, worker));
    const interrupted = new Promise<void>((resolve) => options.interrupt.addEventListener("abort", () => resolve(), { once: true }));
    await Promise.race([workers, interrupted]);
    if (!options.interrupt.aborted) return { interrupted: false, running };
    if (underWay.size) options.onWaiting(underWay.size);
    await Promise.allSettled(underWay);
    return { interrupted: true, running };
  }

  return { guard, run };
}
