/**
 * A size limit per manifest file, checked before anything is read: parsing YAML costs about 35
 * times a file's size in memory (a 100 MB file of a kind tlsgate ignores took 3.5 GB), so one
 * huge or hostile file could take the whole process down. The limit applies to the files
 * loadManifests would read (the same extensions, directories walked the same way).
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** 50,000 TLSRoutes take 12 MB of YAML; a file above this is refused. */
export const DEFAULT_MAX_FILE_BYTES = 16 * 1024 * 1024;

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** Throws an Error naming the first file over `maxBytes`. Paths that cannot be read are left to loadManifests to report. */
export async function checkManifestSizes(paths: readonly string[], maxBytes: number): Promise<void> {
  const pending = [...paths];
  while (pending.length > 0) {
    const given = pending.pop()!;
    let info;
    try {
      info = await stat(given);
    } catch {
      continue;
    }
    if (info.isDirectory()) {
      let entries;
      try {
        entries = await readdir(given, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const entry of entries) {
        const full = path.join(given, entry.name);
        if (entry.isDirectory() || MANIFEST_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) pending.push(full);
      }
    } else if (info.size > maxBytes) {
      throw new Error(
        `${given}: ${info.size} bytes is over the manifest file limit of ${maxBytes} bytes (--max-file-mib ${maxBytes / (1024 * 1024)}); ` +
          'nothing was loaded from any file',
      );
    }
  }
}
