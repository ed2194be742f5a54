// The hidden-bug suite: `flux-i2i contract` against a server of our own (test/support/contract-server.ts)
// that implements both documents, first honest, then with one realistic bug at a time. Each bug must
// fail the run at --examples 1, naming the check that catches it; the honest server, whichever cancel
// answer and job URLs it gives, must pass.
import { describe, expect, it } from "vitest";
import { contractDocuments, runContract, type ContractReport } from "../../src/cli/contract/run.js";
import { imageToImage } from "../../generated/endpoints.js";
import { contractBugs, startContractServer, type ContractBug, type ContractServerOptions } from "../support/contract-server.js";


const failedChecks = (report: ContractReport) =>
  Object.entries(report.results).flatMap(([operation, byCheck]) =>
    Object.entries(byCheck ?? {}).filter(([, tally]) => tally!.failed).map(([check]) => `${check} ${operation}`),
  );

/** A run at --examples 1 against a server of its own, closed by the run itself (the runs go at once). */
async function runAgainst(options: ContractServerOptions, examples = 1) {
  const server = await startContractServer(options);
  try {
    const report = await runContract({ documents: contractDocuments(imageToImage), syncUrl: server.syncUrl, queueUrl: server.queueUrl, key: "contract-test", examples, seed: 1 });
    return { report, failed: failedChecks(report) };
  } finally {
    await server.close();
  }
}

/** The check (and operation) that must name each bug. */
const caughtBy: Record<ContractBug, string> = {
  "strength-up-to-1.5": "negative_data_rejection imageToImage",
  "num-images-up-to-5": "negative_data_rejection submitImageToImage",
  "steps-minimum-12": "positive_data_acceptance imageToImage",
  "file-urls-accepted": "negative_data_rejection imageToImage",
  "fractional-seed-accepted": "negative_data_rejection imageToImage",
  "whole-strength-refused": "positive_data_acceptance imageToImage",
  "fraction-written-integer-refused": "positive_data_acceptance submitImageToImage",
  "big-seed-refused": "positive_data_acceptance imageToImage",
  "null-seed-refused": "positive_data_acceptance imageToImage",
  "empty-prompt-refused": "positive_data_acceptance imageToImage",
  "acceleration-high-refused": "positive_data_acceptance submitImageToImage",
  "unknown-properties-accepted": "negative_data_rejection imageToImage",
  "missing-prompt-accepted": "negative_data_rejection submitImageToImage",
  "priority-unchecked": "negative_data_rejection submitImageToImage",
  "timeout-bound-inclusive": "negative_data_rejection imageToImage",
  "negative-queue-length-accepted": "negative_data_rejection submitImageToImage",
  "webhook-unchecked": "negative_data_rejection submitImageToImage",
  "logs-true-refused": "positive_data_acceptance getQueueStatus",
  "stream-logs-unchecked": "negative_data_rejection streamQueueStatus",
  "missing-auth-on-status": "missing_auth getQueueStatus",
  "completed-with-202": "status_code_agrees_with_status getQueueStatus",
  "in-progress-with-200": "status_code_agrees_with_status getQueueStatus",
  "result-before-completion": "result_not_before_completion getQueueResult",
  "unknown-right-after-submit": "job_available_after_submit getQueueStatus",
  "stream-without-completed": "stream_reaches_completed streamQueueStatus",
  "stream-never-ends": "stream_ends_after_completed streamQueueStatus",
  "broken-status-url": "job_available_after_submit getQueueStatus",
  "cancel-completed-409": "status_code_conformance cancelQueueRequest",
};

describe.concurrent("the honest server passes at --examples 1", () => {
  it.each([
    ["the docs' cancel answer (400 ALREADY_COMPLETED), the document's paths", { cancelAnswer: "outcome", jobUrls: "document" }],
    ["the generated files' cancel answer (200 {success})", { cancelAnswer: "success" }],
    ["job URLs of its own, the document's paths answering 404", { jobUrls: "own" }],
    ["a submit answer with ids only (no URLs)", { jobUrls: "none" }],
  ] as [string, ContractServerOptions][])("%s", async (_, options) => {
    const { report, failed } = await runAgainst(options);
    expect(failed).toEqual([]);
    expect(report.jobs.followed).toBe(1);
    expect(report.jobs.throughAnswerUrls).toBe(options.jobUrls === "none" ? 0 : 1);
    // The stateful checks ran: the job was seen before completion, its stream watched to its end.
    for (const check of ["result_not_before_completion", "stream_reaches_completed", "stream_ends_after_completed", "result_after_completion"] as const) {
      const tally = Object.values(report.results).map((byCheck) => byCheck?.[check]).find(Boolean);
      expect(tally?.passed, check).toBeGreaterThan(0);
    }
  });

  it("a valid result of 40 MB passes: the size cap is the client's 128 MiB, and a check of its own", async () => {
    const { report, failed } = await runAgainst({ outputBytes: 40 * 1024 * 1024 });
    expect(failed).toEqual([]);
    expect(report.results.getQueueResult?.response_size_within_limit?.passed).toBeGreaterThan(0);
  });
});

describe.concurrent("each bug fails the run at --examples 1, named by its check", () => {
  it.each(Object.keys(contractBugs) as ContractBug[])("%s", async (bug) => {
    const { failed } = await runAgainst({ bug });
    expect(failed, contractBugs[bug]).toContain(caughtBy[bug]);
  }, 60_000);
});
