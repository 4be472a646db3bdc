// Writes a volume's files the way the kubelet's AtomicWriter does, so that readers of a
// bind-mounted directory see either the old or the new set of files, never a mix:
//
//   <dir>/..2026_11_27_06_40_00.123456789/<files>   one timestamped directory per version
//   <dir>/..data -> ..2026_...                       swapped with one rename()
//   <dir>/<key>  -> ..data/<key>                      stable names for the container
import { mkdirSync, writeFileSync, symlinkSync, renameSync, readdirSync, rmSync, lstatSync, chmodSync } from 'node:fs';
import path from 'node:path';

export interface VolumeFile {
  /** Relative path inside the volume (may contain '/'). */
  path: string;
  content: Buffer;
  mode: number;
}

function versionDirName(): string {
  const d = new Date();
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `..${d.getUTCFullYear()}_${pad(d.getUTCMonth() + 1)}_${pad(d.getUTCDate())}_${pad(d.getUTCHours())}_${pad(d.getUTCMinutes())}_${pad(d.getUTCSeconds())}.${process.hrtime.bigint()}`;
}

function checkRelative(file: string): void {
  if (path.isAbsolute(file) || file.split('/').some((part) => part === '..' || part === '') || file.startsWith('..')) {
    throw new Error(`volume item path "${file}" must be relative, without ".." and not start with ".."`);
  }
}

/** Replaces the volume's content with `files`. */
export function writeAtomically(dir: string, files: VolumeFile[]): void {
  for (const file of files) checkRelative(file.path);
  mkdirSync(dir, { recursive: true });
  const version = versionDirName();
  const versionDir = path.join(dir, version);
  mkdirSync(versionDir);
  for (const file of files) {
    const target = path.join(versionDir, file.path);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, file.content);
    chmodSync(target, file.mode);
  }
  // Swap ..data in one rename.
  const tmpLink = path.join(dir, '..data_tmp');
  rmSync(tmpLink, { force: true });
  symlinkSync(version, tmpLink);
  renameSync(tmpLink, path.join(dir, '..data'));
  // Top-level names point through ..data; add new ones, drop ones that vanished.
  const topLevel = new Set(files.map((f) => f.path.split('/')[0]!));
  for (const name of topLevel) {
    const link = path.join(dir, name);
    try { lstatSync(link); } catch { symlinkSync(path.join('..data', name), link); }
  }
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('..')) {
      if (entry !== '..data' && entry !== version) rmSync(path.join(dir, entry), { recursive: true, force: true });
    } else if (!topLevel.has(entry)) {
      rmSync(path.join(dir, entry), { recursive: true, force: true });
    }
  }
}
