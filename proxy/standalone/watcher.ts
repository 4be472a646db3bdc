/**
 * Watches the manifest paths and calls back once per burst of changes.
 *
 * Why directories and not files: editors and `kubectl`-style tools save by writing a temp
 * file and renaming it over the original, which silently ends an `fs.watch` on the file
 * itself. Watching the containing directory survives that. Bursts (an editor writes, renames
 * and touches in a few milliseconds) are debounced into one reload.
 */
import { watch, statSync, type FSWatcher } from 'node:fs';
import path from 'node:path';

export interface ManifestWatcher {
  close(): void;
}

export interface WatchOptions {
  debounceMs: number;
  onChange: () => void;
  onError: (error: Error) => void;
}

export function watchManifestPaths(paths: readonly string[], options: WatchOptions): ManifestWatcher {
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const trigger = (): void => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) options.onChange();
    }, options.debounceMs);
  };

  // directory → the file names in it we care about (null = every file, for directory arguments)
  const targets = new Map<string, Set<string> | null>();
  for (const given of paths) {
    const absolute = path.resolve(given);
    let isDirectory = false;
    try {
      isDirectory = statSync(absolute).isDirectory();
    } catch {
      // A file that does not exist yet: watch its directory for it to appear.
    }
    if (isDirectory) {
      targets.set(absolute, null);
    } else {
      const directory = path.dirname(absolute);
      const names = targets.get(directory);
      if (names === null) continue;
      targets.set(directory, (names ?? new Set<string>()).add(path.basename(absolute)));
    }
  }

  for (const [directory, names] of targets) {
    const onEvent = (_event: string, filename: string | Buffer | null): void => {
      // Some platforms omit the name; then any change in the directory counts.
      if (names === null || filename === null || names.has(path.basename(filename.toString()))) trigger();
    };
    let watcher: FSWatcher;
    try {
      watcher = watch(directory, { recursive: names === null, persistent: true }, onEvent);
    } catch (error) {
      // Recursive watching is not available everywhere (older Linux Node versions).
      if (names !== null) throw error;
      watcher = watch(directory, { persistent: true }, onEvent);
    }
    watcher.on('error', (error) => options.onError(error));
    watchers.push(watcher);
  }

  return {
    close(): void {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}
