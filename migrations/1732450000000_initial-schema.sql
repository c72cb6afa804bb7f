-- Up Migration

-- One row per compose: the import's state machine (src/store/import-states.ts is the list this CHECK mirrors),
-- what composer answered, the assembled CG document and what Koji gave back.
CREATE TABLE imports (
  compose_id        uuid PRIMARY KEY,
  state             text NOT NULL CHECK (state IN ('received', 'fetched', 'assembled', 'reserved', 'uploaded',
                                                   'imported', 'failed', 'refunded', 'ignored')),
  koji_server       text,
  koji_task_id      bigint,
  name              text,
  version           text,
  release           text,
  upload_directory  text,
  koji_build_id     bigint,
  -- The CGInitBuild reservation token: needed for CGImport and CGRefundBuild, never logged or served.
  koji_token        text,
  event             jsonb NOT NULL,
  compose_status    jsonb,
  compose_logs      jsonb,
  compose_manifests jsonb,
  cg_metadata       jsonb,
  attempts          integer NOT NULL DEFAULT 0,
  last_error_code   text,
  last_error        text,
  last_error_class  text CHECK (last_error_class IN ('retryable', 'permanent')),
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  imported_at       timestamptz
);

-- Keyset pagination of the admin listing walks (created_at, compose_id) newest first.
CREATE INDEX imports_created_at_idx ON imports (created_at DESC, compose_id DESC);
CREATE INDEX imports_state_idx ON imports (state, created_at DESC);

-- One NVR becomes one Koji build per hub: a second compose with an NVR already imported is a conflict.
CREATE UNIQUE INDEX imports_imported_nvr_idx ON imports (koji_server, name, version, release)
  WHERE state = 'imported';

-- Per-output rows keyed by filename, with the type info users read later (`extra.image`).
CREATE TABLE import_outputs (
  compose_id    uuid NOT NULL REFERENCES imports (compose_id) ON DELETE CASCADE,
  filename      text NOT NULL,
  type          text NOT NULL,
  arch          text NOT NULL,
  filesize      bigint NOT NULL,
  checksum_type text NOT NULL,
  checksum      text NOT NULL,
  extra_image   jsonb,
  PRIMARY KEY (compose_id, filename)
);

-- Every try at every step: what an SRE reads first when an import is stuck or failed.
CREATE TABLE import_attempts (
  id            bigserial PRIMARY KEY,
  compose_id    uuid NOT NULL REFERENCES imports (compose_id) ON DELETE CASCADE,
  attempt       integer NOT NULL,
  step          text NOT NULL,
  outcome       text NOT NULL CHECK (outcome IN ('ok', 'retryable', 'permanent')),
  error_code    text,
  error_message text,
  started_at    timestamptz NOT NULL,
  finished_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX import_attempts_compose_idx ON import_attempts (compose_id, id);

-- Down Migration
DROP TABLE import_attempts;
DROP TABLE import_outputs;
DROP TABLE imports;
