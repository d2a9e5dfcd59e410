/**
 * Which config the local stack runs and whether it needs the fake vendor:
 * the config is read (and validated) with `FAKE_VENDOR_URL` set to this
 * stack's fake vendor, so `${FAKE_VENDOR_URL}` in base URLs follows
 * `FAKE_VENDOR_PORT`; the fake vendor starts when some provider or upstream
 * points at it, or when `SB_FAKE_VENDOR=on` says so.
 */
import { loadConfigFile } from '../../lib/config/load';
import type { SwitchboardConfig } from '../../schemas/config';

/** `auto`: start the fake vendor only when the config uses it. */
export type FakeVendorMode = 'auto' | 'on' | 'off';

export interface StackConfig {
  configPath: string;
  config: SwitchboardConfig;
  fakeVendorUrl: string;
  /** Whether any base URL of the config points at `fakeVendorUrl`. */
  usesFakeVendor: boolean;
  startFakeVendor: boolean;
}

function origin(url: string): string {
  return new URL(url).origin;
}

/** Base URLs of every provider and upstream, resolved as the worker resolves them. */
export function baseUrlsOf(config: SwitchboardConfig): string[] {
  return Object.values(config.providers).flatMap((provider) =>
    provider.upstreams.map((upstream) => upstream.baseUrl ?? provider.baseUrl).filter((url): url is string => url !== undefined),
  );
}

export function chooseStackConfig(o: { configPath: string; fakeVendorUrl: string; mode: FakeVendorMode; env: NodeJS.ProcessEnv }): StackConfig {
  const config = loadConfigFile(o.configPath, { ...o.env, FAKE_VENDOR_URL: o.fakeVendorUrl });
  const usesFakeVendor = baseUrlsOf(config).some((url) => origin(url) === origin(o.fakeVendorUrl));
  if (usesFakeVendor && o.mode === 'off') {
    throw new Error(
      `${o.configPath} points at the fake vendor (${o.fakeVendorUrl}) but SB_FAKE_VENDOR=off: start it (auto or on) or point the config elsewhere`,
    );
  }
  return {
    configPath: o.configPath,
    config,
    fakeVendorUrl: o.fakeVendorUrl,
    usesFakeVendor,
    startFakeVendor: o.mode === 'on' || (o.mode === 'auto' && usesFakeVendor),
  };
}
