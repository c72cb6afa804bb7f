import { rmSync } from "node:fs";
import type { FakeHubState } from "./hub-state.js";
import {
  type Archive,
  type Build,
  fileDigest,
  GenericError,
  KeyErrorFault,
  kojiDate,
  nvrOf,
  PythonError,
  STATE,
  type UploadDir,
  type User,
  uploadDirKey,
} from "./state.js";

type Json = Record<string, unknown>;

/** `obj[key]` as Python's `obj[key]`: a missing key raises KeyError (fault 1). */
function req(obj: unknown, key: string): unknown {
  if (typeof obj !== "object" || obj === null || !(key in obj)) throw KeyErrorFault(key);
  return (obj as Json)[key];
}

const LEGACY_BTYPES = ["maven", "win", "image"];
const KNOWN_BTYPES = new Set(["rpm", "maven", "win", "image"]);

/**
 * CGImport as Koji 1.35's CG_Importer does it, checks in the hub's order (first failure wins): metadata version,
 * CG access, build (reservation, token, NVR), buildroots and components, outputs (size, checksum, typeinfo), the
 * build directory, the build row (task foreign key), then the import proper, which moves each file out of the
 * upload directory as it goes (leaving symlinks): a failure there (unsupported extension, say) rolls the build
 * back, but the files already moved are gone.
 */
export function cgImport(
  hub: FakeHubState,
  user: User,
  metadataJson: unknown,
  directory: unknown,
  token: unknown,
): Json | Promise<Json> {
  if (typeof metadataJson !== "string")
    throw GenericError(`Invalid metadata, cannot encode: ${String(metadataJson)}`);
  let metadata: Json;
  try {
    metadata = JSON.parse(metadataJson) as Json;
  } catch (error) {
    throw PythonError("json.decoder.JSONDecodeError", (error as Error).message);
  }
  const dir = String(directory);
  const metaver = req(metadata, "metadata_version");
  if (metaver !== 0) throw GenericError(`No such metadata version: ${JSON.stringify(metaver)}`);

  // assert_cg_access: one content generator across buildroots, and the caller must have it.
  let cg: string | undefined;
  for (const br of req(metadata, "buildroots") as Json[]) {
    const name = String(req(req(br, "content_generator"), "name"));
    if (!hub.contentGenerators.has(name))
      throw GenericError(`No such entry in table content_generator: ${name}`);
    if (cg !== undefined && cg !== name)
      throw GenericError("Koji now support only one content-generator per import");
    cg = name;
  }
  if (cg === undefined) throw GenericError("No content generator in metadata");
  hub.assertCg(user, cg);

  const build = req(metadata, "build") as Json;
  const taskId = build.task_id === undefined || build.task_id === null ? null : Number(build.task_id);
  let reserved: Build | undefined;
  if (build.build_id) {
    const buildId = Number(build.build_id);
    reserved = hub.builds.get(buildId);
    if (!reserved) throw GenericError(`No such build: ${buildId}`);
    if (!reserved.token || reserved.token !== token)
      throw GenericError(`Token doesn't match build ID ${buildId}`);
    if (reserved.cg !== cg) throw GenericError(`Build ID ${buildId} is not reserved by this CG`);
    if (reserved.task_id && reserved.task_id !== taskId)
      throw GenericError(`Build is owned by task ${reserved.task_id}`);
    if (reserved.state !== STATE.BUILDING) throw GenericError(`Build ID ${buildId} is not in BUILDING state`);
    if (
      reserved.name !== build.name ||
      reserved.version !== build.version ||
      reserved.release !== build.release
    ) {
      throw GenericError(`Build (${buildId}) NVR is different`);
    }
  } else if (token !== undefined && token !== null) {
    throw GenericError("Reservation token given, but no build_id in metadata");
  }
  for (const key of ["name", "version", "release", "extra", "source"]) req(build, key);
  req(build, "start_time");
  req(build, "end_time");
  if (!reserved) {
    const existing = hub.findBuild(build.name as string, build.version as string, build.release as string);
    if (existing && existing.state !== STATE.FAILED && existing.state !== STATE.CANCELED) {
      throw GenericError(`Build already exists: ${nvrOf(existing)} (id=${existing.id})`);
    }
  }
  const extra = { ...(build.extra as Json) };
  const typeinfo = { ...((extra.typeinfo as Json | undefined) ?? {}) };
  for (const btype of LEGACY_BTYPES) {
    if (!(btype in extra)) continue;
    if (btype in typeinfo) throw GenericError(`Duplicate typeinfo for '${btype}'`);
    typeinfo[btype] = extra[btype];
  }
  for (const btype of Object.keys(typeinfo))
    if (!KNOWN_BTYPES.has(btype)) throw GenericError(`No such entry in table btype: ${btype}`);

  // prep_brs
  const outputs = req(metadata, "output") as Json[];
  const used = new Set(outputs.map((o) => req(o, "buildroot_id")));
  const seenBr = new Set<unknown>();
  const matched: ComponentMatches = { buildroots: {}, archives: {}, log: [] };
  for (const br of metadata.buildroots as Json[]) {
    const id = req(br, "id");
    if (!used.has(id)) throw GenericError(`Buildroot id not used in output: ${JSON.stringify(id)}`);
    if (seenBr.has(id)) throw GenericError(`Duplicate buildroot id in metadata: ${JSON.stringify(id)}`);
    seenBr.add(id);
    req(req(br, "content_generator"), "version");
    req(req(br, "container"), "type");
    req(req(br, "container"), "arch");
    req(req(br, "host"), "os");
    req(req(br, "host"), "arch");
    matched.buildroots[String(id)] = matchComponents(hub, req(br, "components") as Json[], matched.log);
    req(br, "tools");
  }

  // prep_outputs: every file present with its size and checksum, and its type info.
  const upload = hub.uploads.get(uploadDirKey(dir));
  for (const output of outputs) {
    const filename = String(req(output, "filename"));
    const file = upload?.files.get(filename);
    if (!file) {
      throw PythonError(
        "FileNotFoundError",
        `[Errno 2] No such file or directory: '/mnt/koji/work/${dir}/${filename}'`,
      );
    }
    const expected = req(output, "filesize");
    if (file.size !== expected) {
      throw GenericError(
        `File size ${file.size} for ${filename} (expected ${expected}) doesn't match. Corrupted upload?`,
      );
    }
    const checksumType = String(req(output, "checksum_type"));
    if (!["md5", "sha256", "adler32"].includes(checksumType))
      throw GenericError(`Unsupported verify type: ${checksumType}`);
    const actual = fileDigest(file, checksumType as "md5" | "sha256" | "adler32");
    if (req(output, "checksum") !== actual) {
      throw GenericError(`File checksum mismatch for ${filename}: ${String(output.checksum)} != ${actual}`);
    }
    if (!seenBr.has(output.buildroot_id)) {
      throw GenericError(`Missing buildroot metadata for id ${JSON.stringify(output.buildroot_id)}`);
    }
    const type = req(output, "type");
    if (type !== "rpm" && type !== "log") {
      const btype = outputBtype(output, filename);
      if (!(btype in typeinfo)) throw GenericError(`Output type ${btype} not listed in build types`);
      if (output.components)
        matched.archives[filename] = matchComponents(hub, output.components as Json[], matched.log);
    }
  }

  if (hub.buildDirs.has(nvrOf(build as { name: string; version: string; release: string }))) {
    throw GenericError(
      `Destination directory already exists: /mnt/koji/packages/${build.name}/${build.version}/${build.release}`,
    );
  }
  if (taskId !== null && !hub.tasks.has(taskId)) {
    throw PythonError(
      "psycopg2.errors.ForeignKeyViolation",
      `insert or update on table "build" violates foreign key constraint "build_task_id_fkey" DETAIL: Key (task_id)=(${taskId}) is not present in table "task".`,
    );
  }

  const importProper = () =>
    finishImport(hub, user, cg, metadata, build, reserved, upload, taskId, extra, matched);
  if (hub.importDurationMs <= 0) return importProper();
  // As the real hub: CGImport re-reads and checksums every output in one transaction that takes seconds, and its
  // build directory exists from the start, so a second CGImport of the reservation meanwhile finds it there.
  // The build stays BUILDING until the commit; a client that gives up does not stop it.
  const buildDir = nvrOf(build as { name: string; version: string; release: string });
  hub.buildDirs.add(buildDir);
  return new Promise<Json>((resolve, reject) => {
    setTimeout(() => {
      hub.buildDirs.delete(buildDir);
      try {
        resolve(importProper());
      } catch (error) {
        reject(error);
      }
    }, hub.importDurationMs).unref();
  });
}

/**
 * The import proper: files move out of the upload directory one by one into the build directory, each leaving a
 * symlink behind, so checkUpload still finds every file after a successful import (as on the real hub). A failure
 * rolls the build back (its directory removed, the database untouched): what moved is gone from the upload
 * directory, its links dangling.
 */
function finishImport(
  hub: FakeHubState,
  user: User,
  cg: string,
  metadata: Json,
  build: Json,
  reserved: Build | undefined,
  upload: UploadDir | undefined,
  taskId: number | null,
  extra: Json,
  matched: ComponentMatches,
): Json {
  const outputs = metadata.output as Json[];
  const target: Build = reserved ?? hub.newBuild(user, cg, build, STATE.BUILDING);
  const archives: Archive[] = [];
  const logs: string[] = [];
  const moved: string[] = [];
  try {
    for (const output of outputs) {
      const filename = output.filename as string;
      if (output.type === "log") {
        if (logs.includes(filename)) {
          throw GenericError(
            `Error importing build log. /mnt/koji/packages/${nvrOf(target)}/data/logs/${filename} already exists.`,
          );
        }
        logs.push(filename);
      } else {
        const typeName = hub.archiveTypeOf(filename);
        if (!typeName) throw GenericError(`unsupported file extension: ${filename}`);
        if (output.checksum_type !== "md5" && output.checksum_type !== "sha256") {
          throw GenericError(`Unsupported checksum type: ${String(output.checksum_type)}`);
        }
        const btype = outputBtype(output, filename);
        const info = typeInfoOf(output, btype);
        if (btype === "image") req(info, "arch");
        archives.push({
          id: hub.nextId(),
          build_id: target.id,
          filename,
          size: output.filesize as number,
          checksum: output.checksum as string,
          checksum_type: output.checksum_type === "md5" ? 0 : 2,
          type_name: typeName,
          btype,
          buildroot_id: output.buildroot_id as number,
          extra: (output.extra as Json | undefined) ?? null,
        });
      }
      moved.push(filename);
    }
  } catch (error) {
    // The hub removes the build directory: the links left for the moved files point at nothing.
    for (const filename of moved) {
      const file = upload?.files.get(filename);
      upload?.files.delete(filename);
      if (file) rmSync(file.path, { force: true });
    }
    if (!reserved) hub.builds.delete(target.id);
    throw error;
  }
  target.state = STATE.COMPLETE;
  target.token = null;
  target.task_id = taskId;
  target.extra = extra;
  target.source = String(build.source);
  // A reserved build completes now; one the import makes itself takes its times from the metadata.
  target.completion_time = reserved ? kojiDate() : kojiDate(new Date(Number(build.end_time) * 1000));
  if (!reserved) target.start_time = kojiDate(new Date(Number(build.start_time) * 1000));
  target.archives = archives;
  target.logs = logs;
  target.metadata = metadata;
  target.rpmComponents = { buildroots: matched.buildroots, archives: matched.archives };
  // The hub writes its import log only once it has something to say, and files it with the build's logs.
  target.cgImportLog =
    matched.log.length > 0 ? `${[...matched.log, "CG import was SUCCESSFUL."].join("\n")}\n` : null;
  hub.buildDirs.add(nvrOf(target));
  return hub.buildInfo(target);
}

function outputBtype(output: Json, filename: string): string {
  const extra = (output.extra as Json | undefined) ?? {};
  let btype: string | undefined;
  for (const key of Object.keys(extra)) {
    if (!LEGACY_BTYPES.includes(key)) continue;
    if (btype !== undefined) throw GenericError(`Output file has multiple types: ${filename}`);
    btype = key;
  }
  for (const key of Object.keys((extra.typeinfo as Json | undefined) ?? {})) {
    if (btype === key) throw GenericError(`Duplicate typeinfo for: '${key}'`);
    if (btype !== undefined) throw GenericError(`Output file has multiple types: ${filename}`);
    btype = key;
  }
  if (btype === undefined) throw GenericError(`No typeinfo for: ${filename}`);
  return btype;
}

function typeInfoOf(output: Json, btype: string): unknown {
  const extra = (output.extra as Json | undefined) ?? {};
  return btype in extra ? extra[btype] : (extra.typeinfo as Json)[btype];
}

/** The RPMs the hub matched as components, by buildroot id and by output filename (N-V-R.A), and its log lines. */
export interface ComponentMatches {
  buildroots: Record<string, string[]>;
  archives: Record<string, string[]>;
  log: string[];
}

/**
 * match_components: an RPM component is looked up by name, version, release and arch among the RPMs the hub
 * knows. One it does not know is dropped; one whose sigmd5 differs from the hub's is kept all the same. Neither
 * fails the import: each is only noted in the build's cg_import.log, in Python's repr of the component.
 */
function matchComponents(hub: FakeHubState, components: Json[], log: string[]): string[] {
  const rpms: string[] = [];
  for (const comp of components) {
    const type = req(comp, "type");
    if (type === "rpm") {
      if ("location" in comp) throw GenericError("External rpms not allowed");
      if ("id" in comp) throw GenericError("Unexpected 'id' field in component");
      const nvra = `${String(comp.name)}-${String(comp.version)}-${String(comp.release)}.${String(comp.arch)}`;
      const known = hub.rpms.get(nvra);
      if (!known) {
        log.push(`IGNORING unmatched rpm component: ${pythonRepr(comp)}`);
        continue;
      }
      if (known.sigmd5 !== req(comp, "sigmd5"))
        log.push(`IGNORING rpm component (md5 mismatch): ${pythonRepr(comp)}`);
      rpms.push(nvra);
    } else if (type !== "file" && type !== "kojifile") {
      throw GenericError(`No such component type: ${String(type)}`);
    }
  }
  return rpms;
}

/** Python's repr() of a JSON value, as the hub's log lines print components. */
export function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") return String(value);
  if (typeof value === "string") {
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    const escaped = value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\t/g, "\\t");
    return quote + (quote === "'" ? escaped.replace(/'/g, "\\'") : escaped) + quote;
  }
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(", ")}]`;
  const entries = Object.entries(value as Json).map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`);
  return `{${entries.join(", ")}}`;
}
