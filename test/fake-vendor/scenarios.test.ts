import OpenAI from 'openai';
import { startFakeVendor, type FakeVendor } from '../../services/fake-vendor';
import { KEYS, openAiClient, rejectionOf, testConfig, waitFor } from './fixtures';

const ORG = 'openai/org-a';
const ask = (client: OpenAI) => client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });

describe('time-scripted faults', () => {
  let vendor: FakeVendor;
  let client: OpenAI;
  beforeAll(async () => {
    vendor = await startFakeVendor({ config: testConfig(), port: 0 });
    client = openAiClient(vendor);
  });
  afterAll(() => vendor.close());
  beforeEach(() => {
    vendor.cancelScenario();
    vendor.clearFaults();
  });

  it('applies steps at their time: down at once, cleared later', async () => {
    vendor.runScenario([
      { at: 0, organisation: ORG, fault: { kind: 'status', status: 503 } },
      { at: 150, organisation: ORG, clear: true },
    ]);
    expect(await rejectionOf(ask(client))).toBeInstanceOf(OpenAI.InternalServerError);
    await waitFor(() => vendor.faults().length === 0);
    await expect(ask(client)).resolves.toBeDefined();
  });

  it('cancels steps not yet applied', async () => {
    vendor.runScenario([{ at: 60_000, organisation: ORG, fault: { kind: 'hang' } }]);
    vendor.cancelScenario();
    await expect(ask(client)).resolves.toBeDefined();
  });

  it('starts the scenario from the config', async () => {
    const scripted = await startFakeVendor({
      config: testConfig({ scenario: [{ at: 0, organisation: 'openai/org-b', fault: { kind: 'account_locked', reason: 'billing' } }] }),
    });
    try {
      const error = await rejectionOf(
        openAiClient(scripted, KEYS.orgB).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
      );
      expect(error).toMatchObject({ status: 429, code: 'insufficient_quota' });
    } finally {
      await scripted.close();
    }
  });
});

describe('faults over time, on a hand-driven clock', () => {
  let nowMs = 1_000_000;
  let vendor: FakeVendor;
  let client: OpenAI;
  beforeAll(async () => {
    vendor = await startFakeVendor({ config: testConfig(), now: () => nowMs });
    client = openAiClient(vendor);
  });
  afterAll(() => vendor.close());
  beforeEach(() => vendor.clearFaults());

  it('flaps: down for downMs, healthy for upMs, repeating', async () => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'flap', downMs: 10_000, upMs: 5_000 } });
    const outcome = async () =>
      ask(client).then(
        () => 'up',
        (e: { status?: number }) => `down ${e.status}`,
      );
    expect(await outcome()).toBe('down 503');
    nowMs += 9_999;
    expect(await outcome()).toBe('down 503');
    nowMs += 1;
    expect(await outcome()).toBe('up');
    nowMs += 5_000;
    expect(await outcome()).toBe('down 503');
    expect(
      vendor
        .requests({ organisation: ORG })
        .slice(-4)
        .map((r) => r.fault),
    ).toEqual(['flap', 'flap', null, 'flap']);
  });

  it('retires a rule after durationMs', async () => {
    vendor.setFault({ organisation: ORG, durationMs: 1_000, fault: { kind: 'status', status: 500 } });
    await expect(ask(client)).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    nowMs += 1_000;
    await expect(ask(client)).resolves.toBeDefined();
    expect(vendor.faults()).toEqual([]);
  });
});
