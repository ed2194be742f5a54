// A contract report as JUnit XML, which CI systems show as tests: one suite per operation, one test
// case per check, a failure element listing what failed.
import type { ContractReport } from "./run.js";

const escape = (text: string) =>
  text.replace(/[<>&"']/g, (c) => `&${{ "<": "lt", ">": "gt", "&": "amp", '"': "quot", "'": "apos" }[c]};`).replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, "");

export function toJunit(report: ContractReport): string {
  const suites = Object.entries(report.results).map(([operation, byCheck]) => {
    const cases = Object.entries(byCheck ?? {}).map(([check, tally]) => {
      const name = `${check} (${tally!.passed + tally!.failed} answers)`;
      if (!tally!.failed) return `    <testcase classname="${escape(operation)}" name="${escape(name)}"/>`;
      const message = `${tally!.failed} of ${tally!.passed + tally!.failed} failed`;
      return `    <testcase classname="${escape(operation)}" name="${escape(name)}">\n      <failure message="${escape(message)}">${escape(tally!.failures.join("\n"))}</failure>\n    </testcase>`;
    });
    const failed = Object.values(byCheck ?? {}).filter((t) => t!.failed).length;
    return `  <testsuite name="${escape(operation)}" tests="${cases.length}" failures="${failed}">\n${cases.join("\n")}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="flux-i2i contract">\n${suites.join("\n")}\n</testsuites>\n`;
}
