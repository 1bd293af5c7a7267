/**
 * A vitest reporter that names every test that failed and then passed on its retry (the integration
 * project retries once), so a flaky test is visible in every run instead of hidden by the retry. Also
 * written to .paved/flaky.txt for CI to keep.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Reporter, TestCase } from 'vitest/node';

export default class FlakyReporter implements Reporter {
  private readonly flaky: string[] = [];

  onTestCaseResult(test: TestCase): void {
    const d = test.diagnostic();
    if (d?.flaky) this.flaky.push(`${test.module.relativeModuleId} > ${test.fullName} (passed on attempt ${d.retryCount + 1})`);
  }

  onTestRunEnd(): void {
    mkdirSync('.paved', { recursive: true });
    writeFileSync('.paved/flaky.txt', this.flaky.map((l) => `${l}\n`).join(''));
    if (this.flaky.length === 0) return;
    console.log(`\nflaky: ${this.flaky.length} test(s) failed first and passed on the retry:`);
    for (const line of this.flaky) console.log(`  ${line}`);
  }
}
