-- Up Migration

-- The transactional outbox of import-result events: a row is written by the same statement that moves an import
-- to imported, failed or refunded, so the result is committed exactly when the state is. The relay publishes
-- pending rows (published_at NULL) with publisher confirms, then sets published_at; sent rows are pruned after
-- OUTBOX_RETENTION. An import that reaches a final state again (an operator's retry) writes another row.
CREATE TABLE import_result_outbox (
  id            bigserial PRIMARY KEY,
  compose_id    uuid NOT NULL REFERENCES imports (compose_id) ON DELETE CASCADE,
  state         text NOT NULL CHECK (state IN ('imported', 'failed', 'refunded')),
  koji_server   text NOT NULL,
  koji_build_id bigint,
  nvr           text NOT NULL,
  error_code    text,
  error_message text,
  finished_at   timestamptz NOT NULL DEFAULT now(),
  published_at  timestamptz
);

-- The relay's queue: pending rows in commit order (ids), small however many sent rows are kept.
CREATE INDEX import_result_outbox_pending_idx ON import_result_outbox (id) WHERE published_at IS NULL;
-- Pruning walks sent rows by age; status reads a compose's latest result.
CREATE INDEX import_result_outbox_published_idx ON import_result_outbox (published_at)
  WHERE published_at IS NOT NULL;
CREATE INDEX import_result_outbox_compose_idx ON import_result_outbox (compose_id, id);

-- Down Migration
DROP TABLE import_result_outbox;
