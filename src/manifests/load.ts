/**
 * Reading Kubernetes manifests from disk into a translate Snapshot: files or directories
 * (recursively, in sorted order), multi-document YAML, JSON, and kubectl `List`s. Invalid
 * input throws a ManifestError naming the file, the document and the field; kinds that
 * translate does not use are skipped with a warning.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Snapshot } from '../gatewayapi/translate.js';
import { admit, type LoadedObject, type RejectedObject } from './admission.js';
import { classifyObject, FieldError, validateObject, type ObjectLocation } from './validate.js';

export type { RejectedObject } from './admission.js';

export class ManifestError extends Error {
  constructor(
    readonly file: string,
    readonly documentIndex: number | undefined,
    readonly field: string | undefined,
    detail: string,
  ) {
    const where = [file, documentIndex !== undefined ? `document ${documentIndex}` : '', field ? `field ${field}` : '']
      .filter(Boolean)
      .join(', ');
    super(`${where}: ${detail}`);
    this.name = 'ManifestError';
  }
}

export function emptySnapshot(): Snapshot {
  return {
    gatewayClasses: [],
    gateways: [],
    tlsRoutes: [],
    httpRoutes: [],
    referenceGrants: [],
    services: [],
    endpointSlices: [],
    secrets: [],
    namespaces: [],
    gatewayParameters: [],
    listenerSets: [],
  };
}

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

async function expandPaths(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const p of paths) {
    let info;
    try {
      info = await stat(p);
    } catch (err) {
      throw new ManifestError(p, undefined, undefined, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (info.isDirectory()) {
      const entries = (await readdir(p, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
      const nested: string[] = [];
      for (const entry of entries) {
        const full = path.join(p, entry.name);
        if (entry.isDirectory()) nested.push(full);
        else if (MANIFEST_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) files.push(full);
      }
      files.push(...(await expandPaths(nested)));
    } else {
      files.push(p);
    }
  }
  return files;
}

/** Parse one file's text into plain documents (YAML streams; JSON is YAML too). */
export function parseDocuments(file: string, text: string): unknown[] {
  const docs = parseAllDocuments(text, { prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const values: unknown[] = [];
  list.forEach((doc, i) => {
    if (doc.errors.length > 0) {
      throw new ManifestError(file, i, undefined, `invalid YAML/JSON: ${doc.errors[0]!.message.split('\n')[0]}`);
    }
    try {
      values.push(doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }));
    } catch (err) {
      // The yaml library's own words (e.g. "Excessive alias count indicates a resource
      // exhaustion attack") say what; the file and document say where.
      throw new ManifestError(file, i, undefined, `cannot be read: ${(err as Error).message}`);
    }
  });
  return values;
}

/**
 * Aliases a document may resolve: a "billion laughs" document (aliases of aliases) would
 * otherwise expand to gigabytes. Real manifests use a handful, if any.
 */
export const MAX_ALIAS_COUNT = 100;

/**
 * Add the objects of one parsed document (an object, or a kubectl List) to the snapshot, and
 * to `loaded` with their locations when given (for the admission checks of loadManifests).
 */
export function addDocument(snapshot: Snapshot, warnings: string[], value: unknown, location: ObjectLocation, loaded?: LoadedObject[]): void {
  if (value === null || value === undefined) return; // empty document ("---" at the end)
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ManifestError(location.file, location.document, undefined, 'expected a Kubernetes object (a mapping)');
  }
  const obj = value as Record<string, unknown>;
  if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items)) {
    obj.items.forEach((item, i) => addDocument(snapshot, warnings, item, { ...location, itemPath: `${location.itemPath ?? ''}items[${i}].` }, loaded));
    return;
  }
  let kind;
  try {
    kind = classifyObject(obj, location, warnings);
    if (!kind) return;
    validateObject(kind, obj);
  } catch (err) {
    if (!(err instanceof FieldError)) throw err;
    throw new ManifestError(location.file, location.document, `${location.itemPath ?? ''}${err.field}`, err.message);
  }
  const meta = obj.metadata as { namespace?: string };
  if (kind !== 'gatewayClasses' && kind !== 'namespaces' && !meta.namespace) meta.namespace = 'default';
  (snapshot[kind] as unknown[]).push(obj);
  loaded?.push({ kind, object: obj, location });
}

export interface LoadedManifests {
  /** The objects the API server would have accepted. */
  snapshot: Snapshot;
  /** Skipped kinds, empty files, what the constructs would refuse, and each refusal (also in `rejected`). */
  warnings: string[];
  /** Objects left out of the snapshot, as the API server would have refused them (admission.ts). */
  rejected: RejectedObject[];
}

/**
 * The default size limit of one manifest file. Parsing YAML costs about 35 times a file's size
 * in memory (a 100 MB file of a kind tlsgate ignores took 3.5 GB), so one huge or hostile file
 * could take the whole process down; 50,000 TLSRoutes are 12 MB.
 */
export const DEFAULT_MAX_MANIFEST_FILE_BYTES = 16 * 1024 * 1024;

export interface LoadOptions {
  /** A file larger than this is refused before any file is read (`--max-file-mib`). */
  maxFileBytes?: number;
}

/** Every file's size, before any is read: one over the limit refuses the whole load. */
async function checkSizes(files: readonly string[], maxBytes: number): Promise<void> {
  for (const file of files) {
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      continue; // gone meanwhile, or unreadable: the read below reports it
    }
    if (size > maxBytes) {
      throw new ManifestError(
        file,
        undefined,
        undefined,
        `${size} bytes is over the manifest file limit of ${maxBytes} bytes (--max-file-mib ${maxBytes / (1024 * 1024)}); nothing was loaded from any file`,
      );
    }
  }
}

export async function loadManifests(paths: string[], options: LoadOptions = {}): Promise<LoadedManifests> {
  if (paths.length === 0) throw new ManifestError('(no paths)', undefined, undefined, 'no manifest files given');
  const snapshot = emptySnapshot();
  const warnings: string[] = [];
  const loaded: LoadedObject[] = [];
  const files = await expandPaths(paths);
  await checkSizes(files, options.maxFileBytes ?? DEFAULT_MAX_MANIFEST_FILE_BYTES);
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new ManifestError(file, undefined, undefined, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const documents = parseDocuments(file, text);
    // An empty file is most likely a mistake (a truncated save, the wrong path): say so.
    if (documents.every((doc) => doc === null || doc === undefined)) warnings.push(`${file}: no Kubernetes object in the file (it is empty), nothing loaded from it`);
    documents.forEach((doc, i) => addDocument(snapshot, warnings, doc, { file, document: i }, loaded));
  }
  const admission = admit(loaded);
  // The refusals go with the warnings too, so that every caller that prints warnings shows
  // them; callers that decide an exit code or a status read `rejected`.
  warnings.push(...admission.warnings, ...admission.errors);
  const refused = new Set(loaded.filter((_, i) => admission.refusedIndexes.has(i)).map((entry) => entry.object));
  if (refused.size > 0) {
    for (const key of Object.keys(snapshot) as (keyof Snapshot)[]) {
      (snapshot[key] as unknown[]) = (snapshot[key] as unknown[]).filter((obj) => !refused.has(obj as Record<string, unknown>));
    }
  }
  return { snapshot, warnings, rejected: admission.rejected };
}
