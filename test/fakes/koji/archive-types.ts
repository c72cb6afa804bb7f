/**
 * Registered archive types: name → extensions, as `getArchiveTypes` lists them. The default is what composer's
 * images need (a real hub registers these and many more); a test can pass a smaller list to see the hub refuse
 * an extension during the file move.
 */
export const DEFAULT_ARCHIVE_TYPES: Record<string, string> = {
  qcow2: "qcow2",
  "raw-xz": "raw.xz",
  raw: "raw",
  vhd: "vhd",
  vhdx: "vhdx",
  vmdk: "vmdk",
  ova: "ova",
  iso: "iso",
  tar: "tar",
  "tar.gz": "tar.gz tgz",
  "tar.xz": "tar.xz",
  xz: "xz",
  json: "json",
  img: "img",
  "vagrant-libvirt": "vagrant-libvirt.box",
  "oci-tar": "oci.tar",
};

/** Koji picks the type whose extension is the longest suffix of the filename. */
export function archiveTypeOf(types: Record<string, string>, filename: string): string | undefined {
  let best: { name: string; length: number } | undefined;
  for (const [name, extensions] of Object.entries(types)) {
    for (const ext of extensions.split(" ")) {
      if (filename.endsWith(`.${ext}`) && (!best || ext.length > best.length))
        best = { name, length: ext.length };
    }
  }
  return best?.name;
}
