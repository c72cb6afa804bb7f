-- Up Migration

-- Marks that let a crashed or retried import tell "never tried" from "may have reached Koji":
-- reservation_started_at is set before CGInitBuild, import_started_at before CGImport, so a retry asks Koji
-- (getBuild) before calling either again. uploads_waiting_since bounds how long missing uploads are waited for.
ALTER TABLE imports
  ADD COLUMN reservation_started_at timestamptz,
  ADD COLUMN reservation_source     text CHECK (reservation_source IN ('composer', 'importer')),
  ADD COLUMN uploads_waiting_since  timestamptz,
  ADD COLUMN import_started_at      timestamptz;

-- Down Migration
ALTER TABLE imports
  DROP COLUMN reservation_started_at,
  DROP COLUMN reservation_source,
  DROP COLUMN uploads_waiting_since,
  DROP COLUMN import_started_at;
