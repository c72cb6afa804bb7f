/**
 * The principals in a Kerberos keytab file (MIT's format, version 0x0502, which MIT, Heimdal, ktutil and FreeIPA
 * write), so that start-up can say "this keytab has no key for that principal" before any ticket is asked for.
 * Only the names are read; the keys are skipped.
 */

export class KeytabFormatError extends Error {}

export function keytabPrincipals(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 2 || bytes[0] !== 0x05)
    throw new KeytabFormatError("not a keytab (no 0x05 header byte)");
  if (bytes[1] !== 0x02) throw new KeytabFormatError(`keytab version 0x05${hex(bytes[1])} is not supported`);
  const principals = new Set<string>();
  let at = 2;
  while (at + 4 <= bytes.length) {
    const size = view.getInt32(at);
    at += 4;
    if (size === 0) break;
    // A negative size is a hole left by a removed entry.
    if (size < 0) {
      at += -size;
      continue;
    }
    if (at + size > bytes.length) throw new KeytabFormatError("keytab entry runs past the end of the file");
    principals.add(entryPrincipal(view, at, at + size));
    at += size;
  }
  return [...principals];
}

function entryPrincipal(view: DataView, start: number, end: number): string {
  let at = start;
  const need = (n: number) => {
    if (at + n > end) throw new KeytabFormatError("keytab entry is truncated");
  };
  const text = (): string => {
    need(2);
    const length = view.getUint16(at);
    at += 2;
    need(length);
    const value = new TextDecoder().decode(new Uint8Array(view.buffer, view.byteOffset + at, length));
    at += length;
    return value;
  };
  need(2);
  const count = view.getUint16(at);
  at += 2;
  const realm = text();
  const components: string[] = [];
  for (let i = 0; i < count; i++) components.push(text());
  return `${components.join("/")}@${realm}`;
}

function hex(byte: number | undefined): string {
  return (byte ?? 0).toString(16).padStart(2, "0");
}
