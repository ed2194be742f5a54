// npm run bench:contract: how fast generated contract data goes through the client's validator and
// through Prism (the two judges of test/full/generated.test.ts), in cases per second, and the wall
// time of a generated run of the full tier's size (1,000 valid and 1,000 invalid bodies, each judged
// by both), all in one run; `BENCH_CASES` changes the size.
import fc from "fast-check";
import { performance } from "node:perf_hooks";
import { invalidBody, validBody } from "../dist/src/cli/contract/cases.js";
import { startPrismMock } from "../dist/src/mock.js";
import { checkInput } from "../dist/src/validation.js";

const cases = Number(process.env.BENCH_CASES ?? 1000);
const seed = 20261129;
const valid = fc.sample(validBody(), { numRuns: cases, seed });
const invalid = fc.sample(invalidBody(), { numRuns: cases, seed }).map((c) => c.body);
const bodies = [...valid, ...invalid];

let started = performance.now();
for (let round = 0; round < 20; round++) for (const body of bodies) checkInput(body);
const validatorRate = (20 * bodies.length) / ((performance.now() - started) / 1000);

const prism = await startPrismMock();
const judge = async (body) => {
  const response = await fetch(`${prism.url}/fal-ai/flux-1/dev/image-to-image`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: "Key bench" },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
};
await Promise.all(bodies.slice(0, 50).map(judge)); // warm up
started = performance.now();
for (const body of bodies) await judge(body);
const sequentialMs = performance.now() - started;
started = performance.now();
for (let i = 0; i < bodies.length; i += 8) await Promise.all(bodies.slice(i, i + 8).map(judge));
const eightAtOnceMs = performance.now() - started;
started = performance.now();
for (const body of bodies) {
  checkInput(body);
  await judge(body);
}
const runMs = performance.now() - started;
await prism.stop();

console.log(`${bodies.length} generated bodies (${cases} valid, ${cases} invalid), seed ${seed}`);
console.log(`client validator             ${Math.round(validatorRate).toLocaleString("en")} cases/s`);
console.log(`Prism, one at a time         ${Math.round(bodies.length / (sequentialMs / 1000)).toLocaleString("en")} cases/s`);
console.log(`Prism, eight at once         ${Math.round(bodies.length / (eightAtOnceMs / 1000)).toLocaleString("en")} cases/s`);
console.log(`validator / Prism (one at a time): ${(validatorRate / (bodies.length / (sequentialMs / 1000))).toFixed(0)}x`);
console.log(`a generated run of this size, both judges, one at a time: ${(runMs / 1000).toFixed(1)} s`);
