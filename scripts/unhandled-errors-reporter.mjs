// A vitest reporter that writes how many errors the run had outside any test
// (vitest's `Errors` line) to the file named by TASKBUFFER_UNHANDLED_ERRORS_FILE.
import { writeFileSync } from 'node:fs';

export default class UnhandledErrorsReporter {
  onTestRunEnd(_testModules, unhandledErrors) {
    const file = process.env.TASKBUFFER_UNHANDLED_ERRORS_FILE;
    if (file) writeFileSync(file, JSON.stringify({ unhandledErrors: unhandledErrors?.length ?? 0 }));
  }
}
