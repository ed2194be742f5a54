// The queue-lag benchmark's fake queue, in its own process: test/support/fake-queue.ts (bundled by
// bench/queue-lag.mjs) with job durations spread over a polling cycle. Reports per job when it
// completed and which requests it got, and how many connections clients opened.
const [modulePath, optionsJson] = process.argv.slice(2);
const { startFakeQueue } = await import(modulePath);
const { runMs, runSpreadMs, closeAfterCompletedMs, images } = JSON.parse(optionsJson);

const fake = await startFakeQueue({
  queueMs: () => 0,
  // Job n runs runMs + (n * 53 mod runSpreadMs): completion lands anywhere in a 500 ms polling cycle.
  runMs: (n) => runMs + ((n * 53) % runSpreadMs),
  // 0: the stream ends right after its COMPLETED frame; more: it is held open that long.
  closeAfterCompletedMs,
  pingMs: 1_000,
  // "self": the fake serves the output images itself, for --out.
  images,
});

process.on("message", (message) => {
  if (message !== "report") return;
  const jobs = [...fake.jobs.values()].map((job) => ({
    id: job.id,
    completedAt: job.completedAt,
    // The submit plus every request naming the job.
    requests: 1 + fake.log.filter((entry) => entry.url.includes(`/requests/${job.id}`)).length,
  }));
  process.send({ jobs, connections: fake.connections() });
});
process.on("disconnect", () => fake.close().then(() => process.exit(0)));
process.send({ url: fake.url });
