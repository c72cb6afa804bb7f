import type { KojiClient } from "../koji/client.js";
import type { ArchiveType } from "../koji/schemas.js";

/**
 * The archive type Koji gives a file, as its get_archive_type matches a name: the name lowercased and cut at each
 * dot, the longest remainder first, and the first remainder that is one of a type's extensions (compared
 * lowercased) wins. So `x.vagrant-libvirt.box` is a `box`, `x.tar.gz` a `tar`, `x.QCOW2` a `qcow2`, and a plain
 * `x.xz` nothing on a hub without an `xz` type (the real one has none).
 */
export function archiveTypeFor(types: readonly ArchiveType[], filename: string): string | undefined {
  const byExtension = new Map<string, string>();
  for (const type of types) {
    for (const ext of type.extensions.split(/\s+/)) if (ext) byExtension.set(ext.toLowerCase(), type.name);
  }
  const parts = filename.toLowerCase().split(".");
  for (let start = 0; start < parts.length; start++) {
    const name = byExtension.get(parts.slice(start).join("."));
    if (name !== undefined) return name;
  }
  return undefined;
}

/**
 * The hub's registered archive types, asked once per hub and kept for `ttlMs`: they change when a Koji admin adds
 * a type, which is rare, and the pre-flight check runs for every import.
 */
export class ArchiveTypeCache {
  private readonly byHub = new Map<string, { at: number; types: Promise<ArchiveType[]> }>();

  constructor(private readonly ttlMs = 10 * 60_000) {}

  types(koji: KojiClient): Promise<ArchiveType[]> {
    const cached = this.byHub.get(koji.hubUrl);
    if (cached && Date.now() - cached.at < this.ttlMs) return cached.types;
    const types = koji.getArchiveTypes();
    types.catch(() => this.byHub.delete(koji.hubUrl));
    this.byHub.set(koji.hubUrl, { at: Date.now(), types });
    return types;
  }
}
