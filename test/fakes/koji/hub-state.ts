import { randomBytes } from "node:crypto";
import { type ArchiveTypeRow, archiveTypeOf, realArchiveTypes } from "./archive-types.js";
import {
  AuthError,
  BUILD_STATES,
  type Build,
  GenericError,
  type KnownRpm,
  kojiDate,
  nvrOf,
  type Session,
  STATE,
  type UploadDir,
  type User,
} from "./state.js";

/**
 * The builds by id, indexed by NVR as the hub's database indexes them: getBuild by NVR and new_build's check ran a
 * scan of every build before, which made each import cost more the more builds the hub had (the drain bench's ten
 * thousand doubled the fakes' CPU per import). Builds never change their NVR, so the index follows set and delete.
 */
class BuildTable extends Map<number, Build> {
  private readonly ids = new Map<string, number>();

  override set(id: number, build: Build): this {
    const previous = this.get(id);
    if (previous && this.ids.get(nvrOf(previous)) === id) this.ids.delete(nvrOf(previous));
    super.set(id, build);
    this.ids.set(nvrOf(build), id);
    return this;
  }

  override delete(id: number): boolean {
    const build = this.get(id);
    if (build && this.ids.get(nvrOf(build)) === id) this.ids.delete(nvrOf(build));
    return super.delete(id);
  }

  override clear(): void {
    this.ids.clear();
    super.clear();
  }

  byNvr(nvr: string): Build | undefined {
    const id = this.ids.get(nvr);
    return id === undefined ? undefined : this.get(id);
  }
}

/**
 * Everything the fake hub knows, in memory: users, sessions, builds, upload directories, tasks; the uploaded
 * files themselves are on disk under `workDir`.
 */
export class FakeHubState {
  private ids = 1000;
  readonly users = new Map<string, User>();
  readonly sessions = new Map<number, Session>();
  readonly builds = new BuildTable();
  readonly uploads = new Map<string, UploadDir>();
  readonly tasks = new Set<number>();
  /** RPMs the hub knows, by N-V-R.A. */
  readonly rpms = new Map<string, KnownRpm>();
  private readonly packages = new Map<string, number>();
  private events = 0;
  readonly buildDirs = new Set<string>();
  readonly contentGenerators = new Set<string>(["osbuild"]);
  sessionLifetimeMs = Number.POSITIVE_INFINITY;
  /** How long CGImport takes before it commits (0: at once); the real hub needs seconds for a big compose. */
  importDurationMs = 0;

  constructor(
    readonly workDir: string,
    /** The archivetypes table; a test may take types out to see the hub refuse an extension. */
    public archiveTypes: ArchiveTypeRow[] = realArchiveTypes(),
  ) {}

  /** A hub that does not register these types. */
  unregisterArchiveTypes(...names: string[]): void {
    this.archiveTypes = this.archiveTypes.filter((t) => !names.includes(t.name));
  }

  /** An RPM the hub knows from now on (addExternalRPM, or one built in Koji). */
  addRpm(rpm: KnownRpm): void {
    this.rpms.set(`${rpm.name}-${rpm.version}-${rpm.release}.${rpm.arch}`, rpm);
  }

  nextId(): number {
    this.ids += 1;
    return this.ids;
  }

  user(name: string): User {
    let user = this.users.get(name);
    if (!user) {
      user = { id: this.nextId(), name, admin: false, cgs: new Set() };
      this.users.set(name, user);
    }
    return user;
  }

  newSession(user: User): Session {
    const session: Session = {
      id: this.nextId(),
      key: `${this.ids}-${randomBytes(12).toString("base64url")}`,
      user,
      createdAt: Date.now(),
      expired: false,
      lastCommittedCallnum: null,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  assertCg(user: User, cg: string): void {
    if (!this.contentGenerators.has(cg))
      throw GenericError(`No such entry in table content_generator: ${cg}`);
    // assert_cg looks only at the grant table: being an admin does not help (measured on the real hub).
    if (!user.cgs.has(cg)) throw AuthError(`Content generator access required (${cg})`);
  }

  findBuild(name: string, version: string, release: string): Build | undefined {
    return this.builds.byNvr(nvrOf({ name, version, release }));
  }

  lookupBuild(ref: unknown): Build | undefined {
    if (typeof ref === "number") return this.builds.get(ref);
    if (typeof ref === "string") return this.builds.byNvr(ref);
    return undefined;
  }

  /** new_build: a fresh row, or the FAILED/CANCELED one of that NVR recycled; anything else already exists. */
  newBuild(owner: User, cg: string, data: Record<string, unknown>, state: number): Build {
    const name = String(data.name);
    const version = String(data.version);
    const release = String(data.release);
    const existing = this.findBuild(name, version, release);
    if (existing) {
      // recycle_build: a BUILDING build of the same (no) task is taken over as it is; another task's is refused.
      if (existing.state === STATE.BUILDING) {
        if ((data.task_id ?? null) === existing.task_id) return existing;
        throw GenericError(`Build already in progress (task ${existing.task_id})`);
      }
      if (existing.state !== STATE.FAILED && existing.state !== STATE.CANCELED) {
        throw GenericError(
          `Build already exists (id=${existing.id}, state=${BUILD_STATES[existing.state]}): {'name': '${name}', 'version': '${version}', 'release': '${release}', 'epoch': None, 'state': ${state}}`,
        );
      }
      this.builds.delete(existing.id);
    }
    const build: Build = {
      id: existing?.id ?? this.nextId(),
      name,
      version,
      release,
      state,
      owner,
      cg,
      task_id: null,
      token: null,
      extra: null,
      source: null,
      package_id: this.packageId(name),
      creation_event_id: this.nextEvent(),
      start_time: kojiDate(),
      creation_time: kojiDate(),
      completion_time: null,
      archives: [],
      logs: [],
      metadata: null,
      rpmComponents: { buildroots: {}, archives: {} },
      cgImportLog: null,
    };
    this.builds.set(build.id, build);
    return build;
  }

  archiveTypeOf(filename: string): string | undefined {
    return archiveTypeOf(this.archiveTypes, filename);
  }

  /** A package row per build name, as the hub adds one with the first build of a name. */
  packageId(name: string): number {
    let id = this.packages.get(name);
    if (id === undefined) {
      id = this.packages.size + 1;
      this.packages.set(name, id);
    }
    return id;
  }

  nextEvent(): number {
    this.events += 1;
    return this.events;
  }

  /** getBuild's answer, every key the real hub's has (see the getBuild captures in test/fixtures/koji-wire). */
  buildInfo(build: Build): Record<string, unknown> {
    return {
      build_id: build.id,
      cg_id: [...this.contentGenerators].indexOf(build.cg) + 1,
      cg_name: build.cg,
      completion_time: build.completion_time,
      completion_ts: kojiTs(build.completion_time),
      creation_event_id: build.creation_event_id,
      creation_time: build.creation_time,
      creation_ts: kojiTs(build.creation_time),
      draft: false,
      epoch: null,
      extra: build.extra,
      id: build.id,
      name: build.name,
      nvr: nvrOf(build),
      owner_id: build.owner.id,
      owner_name: build.owner.name,
      package_id: build.package_id,
      package_name: build.name,
      promoter_id: null,
      promoter_name: null,
      promotion_time: null,
      promotion_ts: null,
      release: build.release,
      source: build.source,
      start_time: build.start_time,
      start_ts: kojiTs(build.start_time),
      state: build.state,
      task_id: build.task_id,
      version: build.version,
      volume_id: 0,
      volume_name: "DEFAULT",
    };
  }
}

/** The `*_ts` twin of a Koji date: seconds since the epoch, with the microseconds. */
function kojiTs(date: string | null): number | null {
  return date === null ? null : Date.parse(date.replace(" ", "T").replace(/(\.\d{3})\d*/, "$1")) / 1000;
}
