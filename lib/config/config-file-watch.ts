/**
 * Follows the config file (SB_CONFIG) and every `apiKeyFile` it names, and
 * reloads the live config when one of them changes.
 *
 * Directories are watched rather than files: editors and `kubectl` replace a
 * file by renaming a new one over it, and a Kubernetes ConfigMap or Secret
 * volume swaps a `..data` symlink, so a watch on the old inode would go
 * quiet. Events are debounced (a swap is several events), and a slow poll
 * backs the watch up where inotify is not delivered (some network and
 * overlay file systems). A change is judged by content: a digest of the
 * config text and the key files, so touching a file does nothing and a
 * rejected document is not retried (and re-logged) until it changes again.
 */
import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Logger } from '../log';
import type { SwitchboardConfig } from '../../schemas/config';
import type { LiveConfig, LoadedConfig, ReloadOutcome } from './live-config';

export interface ConfigFileWatchOptions {
  path: string;
  live: LiveConfig;
  /** Reads and validates the file and resolves its keys (throws ConfigError naming the field). */
  load: () => LoadedConfig;
  log: Logger;
  /** Quiet time after the last file event before reading. Default 200 ms. */
  debounceMs?: number;
  /** Content check even without file events; 0 turns it off. Default 5 s. */
  pollMs?: number;
}

export interface ConfigFileWatch {
  /** Reads now; reloads if the content changed. Undefined when nothing changed. */
  check(): ReloadOutcome | undefined;
  close(): void;
}

function keyFilesOf(config: SwitchboardConfig): string[] {
  return Object.values(config.providers).flatMap((p) => p.upstreams.flatMap((u) => (u.apiKeyFile ? [resolve(u.apiKeyFile)] : [])));
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function watchConfigFile(options: ConfigFileWatchOptions): ConfigFileWatch {
  const { live, log } = options;
  const path = resolve(options.path);
  const debounceMs = options.debounceMs ?? 200;
  const pollMs = options.pollMs ?? 5_000;
  let keyFiles = keyFilesOf(live.current());
  // The digest holds key contents only as a hash, in memory.
  const digest = () => {
    const hash = createHash('sha256').update(readOrEmpty(path));
    for (const file of keyFiles) hash.update('\0').update(readOrEmpty(file));
    return hash.digest('hex');
  };
  let seen = digest();
  let watchers = new Map<string, FSWatcher>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const check = (): ReloadOutcome | undefined => {
    const now = digest();
    if (now === seen) return undefined;
    seen = now;
    const outcome = live.reload(options.load, path);
    if (outcome.result === 'applied') {
      keyFiles = keyFilesOf(live.current());
      // Key files may live in new directories now.
      seen = digest();
      rewatch();
    }
    return outcome;
  };

  const schedule = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => check(), debounceMs);
    timer.unref();
  };

  function rewatch(): void {
    const dirs = new Set([dirname(path), ...keyFiles.map((f) => dirname(f))]);
    const next = new Map<string, FSWatcher>();
    for (const dir of dirs) {
      const existing = watchers.get(dir);
      if (existing) {
        next.set(dir, existing);
        continue;
      }
      try {
        const watcher = watch(dir, { persistent: false }, schedule);
        watcher.on('error', (error) => log.warn({ dir, err: error.message }, 'config watch failed; falling back to polling'));
        next.set(dir, watcher);
      } catch (error) {
        log.warn({ dir, err: (error as Error).message }, 'cannot watch a config directory; falling back to polling');
      }
    }
    for (const [dir, watcher] of watchers) if (!next.has(dir)) watcher.close();
    watchers = next;
  }

  rewatch();
  const poll = pollMs > 0 ? setInterval(() => check(), pollMs) : undefined;
  poll?.unref();

  return {
    check,
    close() {
      closed = true;
      clearTimeout(timer);
      clearInterval(poll);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
