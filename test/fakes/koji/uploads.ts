import { adler32Hex } from "../../../src/koji/adler32.js";
import type { FakeHubState } from "./hub-state.js";
import { digest, fileBytes, GenericError, LockError, PythonError, type Session } from "./state.js";

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
  if (name.includes("/") || name.startsWith(".")) throw GenericError(`Invalid upload filename: ${name}`);
  const reldir = path.replace(/\/+$/, "");
  if (!reldir || reldir.startsWith("..") || reldir.startsWith("/"))
    throw GenericError(`Invalid upload directory: ${path}`);
  if (!verify) throw PythonError("TypeError", "'NoneType' object is not callable");
  if (!["md5", "adler32", "sha256"].includes(verify))
    throw GenericError(`Unsupported verify type: ${verify}`);

  let dir = hub.uploads.get(reldir);
  if (!dir) {
    dir = { owner: session.user.id, files: new Map() };
    hub.uploads.set(reldir, dir);
  } else if (dir.owner !== session.user.id) {
    throw GenericError(`Invalid upload directory, not owner: ${path}`);
  }
  let file = dir.files.get(name);
  if (file && offset === 0 && !overwrite)
    throw GenericError(`upload path exists: /mnt/koji/work/${reldir}/${name}`);
  if (!file) {
    file = { chunks: [], size: 0, mtime: Date.now() / 1000, locked: false };
    dir.files.set(name, file);
  }
  if (file.locked) throw LockError(`[Errno 11] Resource temporarily unavailable: ${name}`);
  file.locked = true;
  try {
    const parts: Buffer[] = [];
    for await (const part of body) parts.push(part);
    const chunk = Buffer.concat(parts);
    if (offset === file.size) {
      file.chunks.push(chunk);
    } else {
      // Writing at `offset` truncates what lay beyond it (overwrite), or leaves a hole before it, as the hub does.
      const bytes = fileBytes(file);
      const before =
        offset <= bytes.length
          ? bytes.subarray(0, offset)
          : Buffer.concat([bytes, Buffer.alloc(offset - bytes.length)]);
      file.chunks = [before, chunk];
    }
    file.size = offset + chunk.length;
    file.mtime = Date.now() / 1000;
    const hexdigest = verify === "adler32" ? adler32Hex(chunk) : digest(verify as "md5", chunk);
    return { size: chunk.length, fileverify: verify, offset, hexdigest };
  } finally {
    file.locked = false;
  }
}
