import { createHash } from "node:crypto";
import { mkdir, open } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Adler32 } from "../adler32.js";
import type { FakeHubState } from "./hub-state.js";
import { GenericError, LockError, PythonError, type Session, uploadDirKey } from "./state.js";

/** Body pieces are written to the file in batches of about this size: one write per TLS record would be slow. */
const WRITE_BATCH_BYTES = 1024 * 1024;

/**
 * The checks of the hub's `get_upload_path`, which uploads and checkUpload share: a plain file name, and a
 * directory that, normalized first, stays inside the work directory ("a/../../b" is refused as "../b" is; an
 * absolute one is refused by the path join, as a Python ValueError).
 */
export function checkedUploadDir(path: string, name: string): string {
  if (name.includes("/") || name.startsWith(".")) throw GenericError(`Invalid upload filename: ${name}`);
  const reldir = uploadDirKey(path);
  if (reldir.startsWith("..")) throw GenericError(`Invalid upload directory: ${path}`);
  // Not the hub's own check but Python's, as it joins the path to the work directory: fault 1.
  if (reldir.startsWith("/")) throw PythonError("ValueError", `Invalid path segment: ${reldir}`);
  return reldir;
}

/**
 * Koji's raw POST upload (`handle_upload`): checks the path as `get_upload_path` does (the first uploader owns
 * the directory), writes the chunk at `offset` (overwrite truncates there), holds the file's lock while it
 * writes (a second chunk meanwhile gets LockError), and answers the chunk's size and digest.
 */
export async function handleUpload(
  hub: FakeHubState,
  session: Session,
  query: URLSearchParams,
  body: AsyncIterable<Buffer>,
): Promise<Record<string, unknown>> {
  const name = query.get("filename");
  if (name === null) throw PythonError("KeyError", "'filename'");
  const path = query.get("filepath") ?? "";
  const verify = query.get("fileverify") ?? "";
  const overwrite = query.get("overwrite") ?? "";
  const offset = Number(query.get("offset") ?? "0");
  const reldir = checkedUploadDir(path, name);
  if (!verify) throw PythonError("TypeError", "'NoneType' object is not callable");
  if (verify !== "md5" && verify !== "adler32" && verify !== "sha256")
    throw GenericError(`Unsupported verify type: ${verify}`);

  let dir = hub.uploads.get(reldir);
  if (!dir) {
    dir = { owner: session.user.id, files: new Map() };
    hub.uploads.set(reldir, dir);
  } else if (dir.owner !== session.user.id) {
    throw GenericError(`Invalid upload directory, not owner: ${path}`);
  }
  const existing = dir.files.get(name);
  if (existing && offset === 0 && !overwrite)
    throw GenericError(`upload path exists: /mnt/koji/work/${reldir}/${name}`);
  const file = existing ?? {
    path: join(hub.workDir, reldir, name),
    size: 0,
    mtime: Date.now() / 1000,
    locked: false,
  };
  if (file.locked) throw LockError(`[Errno 11] Resource temporarily unavailable: ${name}`);
  if (!existing) {
    dir.files.set(name, file);
    await mkdir(dirname(file.path), { recursive: true });
  }
  file.locked = true;
  const handle = await open(file.path, existing ? "r+" : "w+");
  try {
    // Writing at `offset` truncates what lay beyond it (overwrite), or leaves a hole before it, as the hub does.
    if (offset < file.size) await handle.truncate(offset);
    const sum = verify === "adler32" ? new Adler32() : createHash(verify);
    let position = offset;
    let batch: Buffer[] = [];
    let batchBytes = 0;
    const flush = async () => {
      if (batchBytes === 0) return;
      await handle.writev(batch, position);
      position += batchBytes;
      batch = [];
      batchBytes = 0;
    };
    for await (const part of body) {
      sum.update(part);
      batch.push(part);
      batchBytes += part.length;
      if (batchBytes >= WRITE_BATCH_BYTES) await flush();
    }
    await flush();
    const length = position - offset;
    file.size = offset + length;
    file.mtime = Date.now() / 1000;
    const hexdigest = sum instanceof Adler32 ? sum.hexdigest() : sum.digest("hex");
    return { size: length, fileverify: verify, offset, hexdigest };
  } finally {
    await handle.close();
    file.locked = false;
  }
}
