// Notes every test file of the run as done once jest has its result, i.e. after all its hooks
// (its databases dumped, its services stopped): the secrets scan waits for these notes.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

export default class DoneReporter {
  onTestFileResult(test) {
    const dir = process.env.OCPI_TEST_SCRATCH_DIR;
    if (dir) appendFileSync(join(dir, 'done-files.txt'), `${test.path}\n`);
  }
}
