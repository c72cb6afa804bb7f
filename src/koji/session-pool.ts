/**
 * The logged-in hub sessions of one importer on one hub, each lent to one request at a time.
 *
 * The hub checks call numbers: a call below the session's last committing one is refused (SequenceError), and
 * a session is meant to carry one call at a time, as Koji's own clients use it. One session shared by concurrent
 * imports saw their calls overtake each other on parallel connections; under load a call could lose that race
 * several times running and its import went to the retry queue. So each request leases a
 * session of its own, and another is logged in (up to `max`) only when all are busy; beyond that, requests wait
 * their turn. Koji lets one user hold many sessions.
 */
export class SessionPool<S> {
  private readonly idle: S[] = [];
  private readonly open = new Set<S>();
  private opening = 0;
  /** Callers waiting for a session: handed one on its return, or `undefined` when they may log in themselves. */
  private readonly waiters: Array<(session: S | undefined) => void> = [];

  constructor(
    private readonly max: number,
    private readonly login: () => Promise<S>,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`session pool size must be >= 1, not ${max}`);
  }

  /** Sessions logged in and not discarded, busy or idle. */
  get size(): number {
    return this.open.size;
  }

  async lease(): Promise<S> {
    for (;;) {
      const idle = this.idle.pop();
      if (idle !== undefined) return idle;
      if (this.open.size + this.opening < this.max) return this.logIn();
      const handed = await new Promise<S | undefined>((resolve) => this.waiters.push(resolve));
      if (handed !== undefined) return handed;
    }
  }

  /** Returns a leased session; a discarded one only frees its place. */
  giveBack(session: S): void {
    if (!this.open.has(session)) {
      this.wakeOne();
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) waiter(session);
    else this.idle.push(session);
  }

  /** The hub no longer accepts this session (expired, logged out by an admin): never lend it again. */
  discard(session: S): void {
    this.open.delete(session);
    const at = this.idle.indexOf(session);
    if (at >= 0) this.idle.splice(at, 1);
  }

  /** Forgets every session and returns them, to be logged out; leases still out are discarded on return. */
  drain(): S[] {
    const all = [...this.open];
    this.open.clear();
    this.idle.length = 0;
    return all;
  }

  private async logIn(): Promise<S> {
    this.opening++;
    try {
      const session = await this.login();
      this.open.add(session);
      return session;
    } catch (error) {
      // The place this login held is free again (finally runs before the woken waiter): it may try its own.
      this.wakeOne();
      throw error;
    } finally {
      this.opening--;
    }
  }

  private wakeOne(): void {
    this.waiters.shift()?.(undefined);
  }
}
