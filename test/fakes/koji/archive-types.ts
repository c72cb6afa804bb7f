import { readFileSync } from "node:fs";

/** One row of the hub's archivetypes table, as `getArchiveTypes` lists it. */
export interface ArchiveTypeRow {
  id: number;
  name: string;
  description: string;
  extensions: string;
  compression_type: string | null;
}

/**
 * The real hub's table (76 types, captured from Koji 1.35.3): no `xz`, `tar.gz` or `oci-tar` type (`tar` covers
 * .tar.gz, .tar.xz and .tgz), `box` for .vagrant-libvirt.box, `raw-gz` and the `*-compressed` types.
 */
export function realArchiveTypes(): ArchiveTypeRow[] {
  const url = new URL("../../fixtures/koji-wire/getArchiveTypes.json", import.meta.url);
  return JSON.parse(readFileSync(url, "utf8")) as ArchiveTypeRow[];
}

/** A table from `name → space-separated extensions`, for a test that wants a hub of its own types. */
export function archiveTypeRows(types: Record<string, string>): ArchiveTypeRow[] {
  return Object.entries(types).map(([name, extensions], i) => ({
    id: i + 1,
    name,
    description: `${name} archive`,
    extensions,
    compression_type: null,
  }));
}

/**
 * get_archive_type(filename): the lowercased name cut at each dot, longest remainder first (the whole name
 * included), the first one that is one of a type's extensions, compared lowercased, wins.
 */
export function archiveTypeOf(types: readonly ArchiveTypeRow[], filename: string): string | undefined {
  const parts = filename.toLowerCase().split(".");
  for (let start = 0; start < parts.length; start++) {
    const ext = parts.slice(start).join(".");
    const found = types.find((t) => t.extensions.split(/\s+/).some((e) => e.toLowerCase() === ext));
    if (found) return found.name;
  }
  return undefined;
}
