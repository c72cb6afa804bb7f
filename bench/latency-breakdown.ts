import type pg from "pg";

/**
 * Where publish→imported latency goes, stage by stage, read from what the service stores anyway: the import row's
 * created_at (the event recorded) and the attempt log's "ok" line per step (started_at, and finished_at, which is
 * the step's final statement's now()). A stall shows as the stage that grows for the slowest imports; a tail that
 * only the queue stage carries is the broker's or the backlog's, one in a step is that step's.
 */
export interface StageTimes {
  publishedAt: number;
  /** Stage name → milliseconds, in the order the stages happen. */
  stages: Map<string, number>;
  total: number;
}

const STEPS = ["fetch", "assemble", "reserve", "check-uploads", "import"] as const;

/** Epoch milliseconds arrive as numeric, which pg hands over as strings. */
interface StepRow {
  compose_id: string;
  created: string;
  step: string;
  started: string;
  finished: string;
}

/** One StageTimes per compose imported in a single attempt (retried ones would mix attempts; the bench has none). */
export async function stageTimes(
  db: pg.Pool,
  publishedAt: ReadonlyMap<string, number>,
): Promise<Map<string, StageTimes>> {
  const { rows } = await db.query<StepRow>(
    `SELECT i.compose_id, extract(epoch FROM i.created_at) * 1000 AS created, a.step,
            extract(epoch FROM a.started_at) * 1000 AS started, extract(epoch FROM a.finished_at) * 1000 AS finished
     FROM imports i JOIN import_attempts a USING (compose_id)
     WHERE i.state = 'imported' AND i.attempts = 1 AND a.outcome = 'ok'`,
  );
  const byCompose = new Map<string, Map<string, StepRow>>();
  for (const row of rows) {
    const steps = byCompose.get(row.compose_id) ?? new Map<string, StepRow>();
    steps.set(row.step, row);
    byCompose.set(row.compose_id, steps);
  }
  const result = new Map<string, StageTimes>();
  for (const [composeId, steps] of byCompose) {
    const published = publishedAt.get(composeId);
    const ordered = STEPS.flatMap((name) => steps.get(name) ?? []);
    const first = ordered[0];
    if (published === undefined || !first || ordered.length !== STEPS.length) continue;
    const stages = new Map<string, number>();
    // Delivery, the record insert, the lock and the attempt count: all before the first step starts.
    stages.set("queue+record", Number(first.created) - published);
    stages.set("lock+attempt", Number(first.started) - Number(first.created));
    let previousEnd = Number(first.started);
    for (const step of ordered) {
      // finished_at is the final statement's start: its commit and the worker's next await fall in the gap.
      stages.set("between steps", (stages.get("between steps") ?? 0) + Number(step.started) - previousEnd);
      stages.set(step.step, Number(step.finished) - Number(step.started));
      previousEnd = Number(step.finished);
    }
    result.set(composeId, { publishedAt: published, stages, total: previousEnd - published });
  }
  return result;
}

/** Mean of each stage over `selected`, as "stage ms" columns. */
export function meanStages(selected: readonly StageTimes[]): Array<[string, number]> {
  const sums = new Map<string, number>();
  for (const { stages } of selected)
    for (const [name, ms] of stages) sums.set(name, (sums.get(name) ?? 0) + ms);
  return [...sums].map(([name, sum]) => [name, sum / Math.max(1, selected.length)]);
}
