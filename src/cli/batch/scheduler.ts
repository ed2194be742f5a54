// The batch's scheduler: the lines in file order, at most `limit` at once, none started once the
// batch is stopping (Ctrl-C, or fal refused the key). When fal refuses a submit with 429 (over the
// account's concurrency limit: no job was made), the line goes back to the front, the limit halves
// and new starts pause, backing off while refusals go on; each accepted submit earns the limit back
// one step at a time, up to `concurrency` (additive increase, multiplicative decrease). Submits go
// out at most two at a time (maxSubmitsAtOnce), so that a kill leaves at most two lines uncertain.
// On Ctrl-C it returns without waiting for the jobs being followed (they go on on fal, paid for; a
// resume collects them), but only after every submit under way has settled, so that each one's
// request id is in the journal.
import { sleep } from "../../core/retry.js";

/**
 * Submits between their two journal records (going out, and its request id) at once, at most: a
 * line is uncertain after a SIGKILL only there, so a killed batch leaves at most this many, at any
 * concurrency and however busy the machine. Two keep a batch at fal's usual limits fed (a submit
 * takes a fraction of a job's seconds); the jobs themselves still run `concurrency` at once.
 */
export const maxSubmitsAtOnce = 2;

/** What running a line came to: `refused` puts it back for another try. */
export type LineOutcome = "refused" | void;

export interface SchedulerOptions {
  /** Lines at once, at most. */
  concurrency: number;
  /** Ctrl-C. */
  interrupt: AbortSignal;
  /** No new line starts once this holds (the interrupt, or a refused key). */
  stopping: () => boolean;
  /** The number of lines being run changed. */
  onRunning: (count: number) => void;
  /** Interrupted with submits under way: they are being waited for. */
  onWaiting: (count: number) => void;
  /** fal refused a submit: the limit is now `limit`, new starts wait `pauseMs`. */
  onThrottled?: (limit: number, pauseMs: number) => void;
  /** The limit is back at `concurrency`. */
  onRecovered?: (limit: number) => void;
  /** The first pause after a refusal; each refusal in a row doubles it, up to `maxPauseMs`. Default 2 000 ms. */
  pauseMs?: number;
  /** Default 30 000 ms. */
  maxPauseMs?: number;
}

export interface Scheduler {
  /**
   * Marks work an interrupted batch must wait for (a submit and the journal record of its id);
   * gives its outcome.
   */
  guard<T>(work: Promise<T>): Promise<T>;
  /**
   * Runs a submit (from its first journal record to its last) once fewer than
   * {@link maxSubmitsAtOnce} are under way, guarded as {@link guard} does; undefined, without
   * running it, if the batch is stopping by then.
   */
  submit<T>(work: () => Promise<T>): Promise<T | undefined>;
  /** A submit was accepted: the limit may rise again. */
  accepted(): void;
  /**
   * Runs `runOne` on each item; resolves when all are done, or, interrupted, when the guarded work
   * has settled (`running`: the lines still under way then). An item whose run comes to `refused`
   * is run again later. Rejects if `runOne` does.
   */
  run<T>(items: readonly T[], runOne: (item: T) => Promise<LineOutcome>): Promise<{ interrupted: boolean; running: number }>;
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  const underWay = new Set<Promise<unknown>>();
  const { concurrency, interrupt } = options;
  let running = 0;
  const waiting: (() => void)[] = [];
  const wake = () => waiting.splice(0).forEach((resolve) => resolve());
  interrupt.addEventListener("abort", wake, { once: true });
  const limit = createLimit(options, wake);

  function guard<T>(work: Promise<T>): Promise<T> {
    underWay.add(work);
    return work.finally(() => underWay.delete(work));
  }
  const submit = submitGate(options.stopping, guard);
  const accepted = () => limit.accepted();

  /**
   * Takes a place for a line once one is free (under the limit, past any pause), counting it in
   * `running` in the same step so that two workers woken together cannot both take the last one.
   * False when the batch is stopping.
   */
  async function slot(): Promise<boolean> {
    while (!options.stopping()) {
      const pause = limit.pausedUntil - Date.now();
      if (pause > 0) await sleep(pause, interrupt).catch(() => undefined);
      else if (running < limit.value) {
        running++;
        return true;
      }
      else await new Promise<void>((resolve) => waiting.push(resolve));
    }
    return false;
  }

  async function run<T>(items: readonly T[], runOne: (item: T) => Promise<LineOutcome>) {
    let next = 0;
    const again: T[] = [];
    const worker = async () => {
      for (;;) {
        if (!(await slot())) return;
        const item = again.length ? again.shift()! : next < items.length ? items[next++]! : undefined;
        if (item === undefined) {
          running--;
          return wake();
        }
        options.onRunning(running);
        try {
          if ((await runOne(item)) === "refused") {
            again.push(item);
            limit.refused();
          }
        } finally {
          options.onRunning(--running);
          wake();
        }
      }
    };
    const workers = Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
    const interrupted = new Promise<void>((resolve) => interrupt.addEventListener("abort", () => resolve(), { once: true }));
    await Promise.race([workers, interrupted]);
    if (!interrupt.aborted) return { interrupted: false, running };
    if (underWay.size) options.onWaiting(underWay.size);
    await Promise.allSettled(underWay);
    return { interrupted: true, running };
  }

  return { guard, submit, accepted, run };
}

/**
 * The number of lines run at once: `concurrency`, halved (and new starts paused, the pause doubling
 * while refusals go on) when fal refuses a submit, and earned back one step per `limit` accepted
 * submits. `wake` is told when it rises.
 */
function createLimit(options: SchedulerOptions, wake: () => void) {
  const { concurrency } = options;
  let acceptedAtLimit = 0;
  let refusalsInRow = 0;
  const limit = { value: concurrency, pausedUntil: 0, accepted, refused };

  function accepted() {
    refusalsInRow = 0;
    if (limit.value >= concurrency || ++acceptedAtLimit < limit.value) return;
    acceptedAtLimit = 0;
    limit.value++;
    if (limit.value === concurrency) options.onRecovered?.(limit.value);
    wake();
  }

  function refused() {
    const base = options.pauseMs ?? 2_000;
    const pauseMs = Math.min(options.maxPauseMs ?? 30_000, base * 2 ** refusalsInRow++);
    limit.value = Math.max(1, Math.floor(limit.value / 2));
    acceptedAtLimit = 0;
    limit.pausedUntil = Math.max(limit.pausedUntil, Date.now() + pauseMs);
    options.onThrottled?.(limit.value, pauseMs);
  }
  return limit;
}

/** {@link Scheduler.submit}: at most {@link maxSubmitsAtOnce} submits under way, each guarded; none started once stopping. */
function submitGate(stopping: () => boolean, guard: <T>(work: Promise<T>) => Promise<T>) {
  let submitting = 0;
  const waitingToSubmit: (() => void)[] = [];
  return async function submit<T>(work: () => Promise<T>): Promise<T | undefined> {
    while (submitting >= maxSubmitsAtOnce) await new Promise<void>((resolve) => waitingToSubmit.push(resolve));
    submitting++;
    try {
      return stopping() ? undefined : await guard(work());
    } finally {
      submitting--;
      waitingToSubmit.shift()?.();
    }
  };
}
