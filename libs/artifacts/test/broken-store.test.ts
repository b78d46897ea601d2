import { test } from 'node:test';
import assert from 'node:assert/strict';
import { artifactStoreContract } from './support/contract';
import { type Defect, brokenStoreUnderTest } from './support/broken-store';

async function failingChecks(defect: Defect): Promise<string[]> {
  const failed: string[] = [];
  for (const check of artifactStoreContract) {
    const sut = brokenStoreUnderTest(defect);
    await check.run(sut).catch(() => failed.push(check.name));
  }
  return failed;
}

test('the in-memory stand-in without a defect passes the whole contract (so failures below come from the defect)', async () => {
  assert.deepEqual(await failingChecks('none'), []);
});

// Proves the contract can fail: each deliberate defect must be caught by the named check(s).
const expectations: Record<Exclude<Defect, 'none'>, RegExp> = {
  'corrupts-bytes-on-put': /get returns the same bytes/,
  'skips-verification-on-get': /corrupted at rest/,
  'random-address': /same bytes twice is a no-op/,
  'drops-last-chunk-of-streams': /stream of chunks/,
  'exists-always-true': /exists is false before put/,
  'overwrites-metadata': /first metadata wins/,
};

for (const [defect, caughtBy] of Object.entries(expectations)) {
  test(`the contract catches a store that ${defect.replace(/-/g, ' ')}`, async () => {
    const failed = await failingChecks(defect as Defect);
    assert.ok(
      failed.some((name) => caughtBy.test(name)),
      `defect ${defect} slipped through; failing checks: ${failed.join(' | ') || 'none'}`,
    );
  });
}
