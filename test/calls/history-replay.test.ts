/**
 * Calls in flight survive an upgrade: every llmCall history recorded from the
 * current release (test/fixtures/histories/<release>/, written by
 * call-histories.record.ts on the real stack) replays on today's workflow
 * code without a non-determinism error. A change to llmCall's sequence of
 * commands fails here unless it is guarded by `patched()` — or is a new
 * release on purpose: then its histories are recorded and the release it
 * cannot continue is listed below with the reason (docs/deploy.md, "Upgrades").
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { installQuietRuntime, testStack } from '../harness/env';

const root = join(__dirname, '..', 'fixtures', 'histories');

/** Releases whose calls today's code cannot continue, and why. Every other folder must replay. */
const incompatible: Record<string, string> = {
  '2026-12-05-a':
    'plan, cache look-up, attempt and record were separate local activities; since 2026-12-05-b a call answered at once runs them as one (answerCall)',
};

function historiesOf(release: string): Array<{ name: string; history: temporal.api.history.v1.IHistory }> {
  return readdirSync(join(root, release))
    .filter((file) => file.endsWith('.pb'))
    .sort()
    .map((file) => ({ name: file.replace(/\.pb$/, ''), history: temporal.api.history.v1.History.decode(readFileSync(join(root, release, file))) }));
}

const releases = readdirSync(root).sort();
const replayable = releases.filter((release) => !(release in incompatible));

beforeAll(() => installQuietRuntime());

describe("llmCall histories replay on today's workflow code", () => {
  it('has recorded histories of at least one release that must replay', () => {
    expect(replayable.length).toBeGreaterThan(0);
    for (const release of replayable)
      expect(historiesOf(release).map((h) => h.name)).toEqual(['answered', 'cached', 'failed', 'fallback', 'retried', 'streamed', 'waited']);
  });

  for (const release of replayable) {
    it(`replays every call path of release ${release}`, async () => {
      for (const { name, history } of historiesOf(release)) {
        await expect(
          Worker.runReplayHistory({ workflowBundle: { codePath: testStack().workflowBundle } }, history, `replay-${release}-${name}`),
        ).resolves.toBeUndefined();
      }
    });
  }

  for (const [release, reason] of Object.entries(incompatible)) {
    it(`names release ${release} as one whose calls in flight cannot continue (${reason})`, async () => {
      // A listed release that replays after all would be a false warning in docs/deploy.md.
      const outcomes = await Promise.allSettled(
        historiesOf(release).map(({ name, history }) =>
          Worker.runReplayHistory({ workflowBundle: { codePath: testStack().workflowBundle } }, history, `replay-${release}-${name}`),
        ),
      );
      const refused = outcomes.filter((o) => o.status === 'rejected' && (o.reason as Error).name === 'DeterminismViolationError');
      expect(refused.length).toBeGreaterThan(0);
    });
  }
});
