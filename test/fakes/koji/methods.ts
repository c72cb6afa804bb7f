import { cgImport } from "./cg-import.js";
import type { FakeHubState } from "./hub-state.js";
import { ActionNotAllowed, fileDigest, GenericError, KeyErrorFault, type Session, STATE } from "./state.js";
import { checkedUploadDir } from "./uploads.js";

type Args = unknown[];
type Kwargs = Record<string, unknown>;
export type Method = (
  hub: FakeHubState,
  session: Session,
  args: Args,
  kwargs: Kwargs,
) => unknown | Promise<unknown>;

/** Methods that write to the hub's database: the session's callnum is stored when they succeed. */
export const COMMITTING = new Set(["CGInitBuild", "CGRefundBuild", "CGImport", "cancelBuild"]);

function checkNvrPart(value: unknown, field: string): void {
  if (typeof value === "string" && value.includes("-")) {
    throw GenericError(`The "-" character not allowed in ${field} field`);
  }
}

export const METHODS: Record<string, Method> = {
  getAPIVersion: () => 1,
  getLoggedInUser: (_hub, session) => ({
    id: session.user.id,
    name: session.user.name,
    status: 0,
    usertype: 0,
    krb_principals: [],
    authtype: 2,
  }),
  CGInitBuild: (hub, session, [cg, data]) => {
    hub.assertCg(session.user, String(cg));
    const d = (data ?? {}) as Kwargs;
    for (const key of ["name", "version", "release"]) if (!(key in d)) throw KeyErrorFault(key);
    checkNvrPart(d.version, "version");
    checkNvrPart(d.release, "release");
    const build = hub.newBuild(session.user, String(cg), d, STATE.BUILDING);
    if (build.token) throw GenericError("Build is already reserved");
    build.token = `${build.id}-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    return { build_id: build.id, token: build.token };
  },
  CGRefundBuild: (hub, session, [cg, buildId, token, state = STATE.FAILED]) => {
    if (state !== STATE.FAILED && state !== STATE.CANCELED) {
      throw GenericError("Only FAILED/CANCELED build states are allowed");
    }
    hub.assertCg(session.user, String(cg));
    const build = hub.builds.get(Number(buildId));
    if (!build) throw GenericError(`No such build: ${String(buildId)}`);
    if (build.state !== STATE.BUILDING) throw GenericError(`Build ID ${build.id} is not in BUILDING state`);
    if (!build.token || build.token !== token) throw GenericError(`Token doesn't match build ID ${build.id}`);
    if (build.cg !== cg) throw GenericError(`Build ID ${build.id} is not reserved by this CG`);
    build.state = state as number;
    build.token = null;
    return null;
  },
  cancelBuild: (hub, session, [ref]) => {
    const build = hub.lookupBuild(ref);
    if (!build) return false;
    if (build.owner.id !== session.user.id && !session.user.admin) {
      throw ActionNotAllowed("Cannot cancel build, not owner");
    }
    if (build.state !== STATE.BUILDING) return false;
    build.state = STATE.CANCELED;
    build.token = null;
    return true;
  },
  CGImport: (hub, session, [metadata, directory, token]) =>
    cgImport(hub, session.user, metadata, directory, token),
  getArchiveTypes: (hub) => hub.archiveTypes.map((t) => ({ ...t })),
  getBuild: (hub, _session, [ref]) => {
    const build = hub.lookupBuild(ref);
    return build ? hub.buildInfo(build) : null;
  },
  listArchives: (hub, _session, args, kwargs) => {
    const buildId = kwargs.buildID ?? args[0];
    const build = hub.builds.get(Number(buildId));
    if (!build) return [];
    return build.archives.map((a) => ({ ...a, checksum_type: a.checksum_type, metadata_only: false }));
  },
  checkUpload: (hub, _session, [path, name], kwargs) => {
    const file = hub.uploads.get(checkedUploadDir(String(path), String(name)))?.files.get(String(name));
    if (!file) return null;
    const verify = kwargs.verify as string | undefined;
    const result: Kwargs = { size: file.size, mtime: file.mtime };
    if (verify) {
      if (verify !== "adler32" && verify !== "md5" && verify !== "sha256")
        throw GenericError(`Unsupported verify type: ${verify}`);
      result.hexdigest = fileDigest(file, verify);
      result.sumlength = file.size;
    }
    return result;
  },
  logout: (hub, session) => {
    hub.sessions.delete(session.id);
    return null;
  },
};
