import type { KojiClient } from "../koji/client.js";

/**
 * The hub's registered archive extensions, asked once per hub and kept for `ttlMs`: they change when a Koji
 * admin adds a type, which is rare, and the pre-flight check runs for every import.
 */
export class ArchiveTypeCache {
  private readonly byHub = new Map<string, { at: number; extensions: Promise<string[]> }>();

  constructor(private readonly ttlMs = 10 * 60_000) {}

  extensions(koji: KojiClient): Promise<string[]> {
    const cached = this.byHub.get(koji.hubUrl);
    if (cached && Date.now() - cached.at < this.ttlMs) return cached.extensions;
    const extensions = koji
      .getArchiveTypes()
      .then((types) => types.flatMap((t) => t.extensions.split(/\s+/)).filter(Boolean));
    extensions.catch(() => this.byHub.delete(koji.hubUrl));
    this.byHub.set(koji.hubUrl, { at: Date.now(), extensions });
    return extensions;
  }
}
