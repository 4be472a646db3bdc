/**
 * Watches the manifest paths and calls back once per burst of changes.
 *
 * Why directories and not files: editors and `kubectl`-style tools save by writing a temp
 * file and renaming it over the original. A watch on a file follows its inode, so it misses
 * every write after such a rename (the name now belongs to another inode). A watch on the
 * containing directory reports changes to whatever file has the name. Node's `recursive`
 * option is no way out: on Linux (Node 20-24) it watches each file's inode too, so it has
 * the same blind spot. Directory arguments are therefore watched one directory at a time,
 * non-recursively, and the set of directories is read again on every event (a new
 * subdirectory gets its watch, a removed one loses it). Bursts (an editor writes, renames and
 * touches in a few milliseconds) are debounced into one reload.
 */
import { readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

export interface ManifestWatcher {
  close(): void;
}

export interface WatchOptions {
  debounceMs: number;
  onChange: () => void;
  onError: (error: Error) => void;
}

/** `root` and every directory below it (a directory that cannot be read contributes only itself). */
function directoryTree(root: string): string[] {
  const found = [root];
  for (let i = 0; i < found.length; i++) {
    let entries;
    try {
      entries = readdirSync(found[i]!, { withFileTypes: true });
    } catch {
      continue; // removed meanwhile, or unreadable: loadManifests reports what it cannot read
    }
    for (const entry of entries) if (entry.isDirectory()) found.push(path.join(found[i]!, entry.name));
  }
  return found;
}

export function watchManifestPaths(paths: readonly string[], options: WatchOptions): ManifestWatcher {
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

  // Directory arguments (whole trees), and directory → the file names in it we care about.
  const trees: string[] = [];
  const fileNames = new Map<string, Set<string>>();
  for (const given of paths) {
    const absolute = path.resolve(given);
    let isDirectory = false;
    try {
      isDirectory = statSync(absolute).isDirectory();
    } catch {
      // A file that does not exist yet: watch its directory for it to appear.
    }
    if (isDirectory) {
      trees.push(absolute);
    } else {
      const directory = path.dirname(absolute);
      fileNames.set(directory, (fileNames.get(directory) ?? new Set<string>()).add(path.basename(absolute)));
    }
  }

  const watchers = new Map<string, FSWatcher>();
  /** The directories of the directory arguments' trees, watched for every name. */
  const treeDirectories = new Set<string>();
  const isTreeRoot = (directory: string): boolean => trees.includes(directory);

  const watchDirectory = (directory: string, names: Set<string> | null): void => {
    const onEvent = (_event: string, filename: string | Buffer | null): void => {
      // Some platforms omit the name; then any change in the directory counts.
      if (names !== null && filename !== null && !names.has(path.basename(filename.toString()))) return;
      if (names === null) refreshTrees();
      trigger();
    };
    const watcher = watch(directory, { persistent: true }, onEvent);
    watcher.on('error', (error) => {
      watcher.close();
      watchers.delete(directory);
      // A deleted subdirectory ends its own watch: not an error, the tree is read again.
      if (names === null && !isTreeRoot(directory)) {
        treeDirectories.delete(directory);
        refreshTrees();
        return;
      }
      options.onError(error);
    });
    watchers.set(directory, watcher);
  };

  /** Watches every directory now in the trees, and stops watching those no longer there. */
  const refreshTrees = (): void => {
    if (closed) return;
    const wanted = new Set(trees.flatMap(directoryTree));
    for (const directory of treeDirectories) {
      if (wanted.has(directory)) continue;
      watchers.get(directory)?.close();
      watchers.delete(directory);
      treeDirectories.delete(directory);
    }
    for (const directory of wanted) {
      if (treeDirectories.has(directory)) continue;
      try {
        watchDirectory(directory, null);
        treeDirectories.add(directory);
      } catch (error) {
        // Removed between listing and watching: it is gone, nothing to watch.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') options.onError(error as Error);
      }
    }
  };

  for (const directory of new Set(trees.flatMap(directoryTree))) {
    watchDirectory(directory, null);
    treeDirectories.add(directory);
  }
  // A file's directory that is also in a tree is already watched for every name.
  for (const [directory, names] of fileNames) if (!treeDirectories.has(directory)) watchDirectory(directory, names);

  return {
    close(): void {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
