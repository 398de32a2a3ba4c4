// The history store's schema as an ordered list of migrations (docs/history.md#schema). A new
// version appends a migration; a released migration is never edited.
#include "chipgauge/history/store.hpp"

namespace chipgauge::history {

const std::vector<migration>& schema_migrations() {
  static const std::vector<migration> list = {
      {1, "runs, devices, benchmarks, results, samples, certificate checks",
       R"sql(
-- One run per ingested file. Times are Unix seconds, UTC.
CREATE TABLE runs (
  id            INTEGER PRIMARY KEY,
  source_kind   TEXT    NOT NULL CHECK (source_kind IN ('chipgauge-report', 'gbench', 'certificate')),
  source_sha256 TEXT    NOT NULL UNIQUE,
  source_name   TEXT    NOT NULL,
  created_utc   INTEGER NOT NULL,
  ingested_utc  INTEGER NOT NULL,
  tool_version  TEXT    NOT NULL,
  git_sha       TEXT    NOT NULL,
  mode          TEXT    NOT NULL,
  host          TEXT    NOT NULL,
  kernel        TEXT    NOT NULL,
  driver        TEXT    NOT NULL,
  toolkit       TEXT    NOT NULL,
  argv          TEXT    NOT NULL,
  context       TEXT    NOT NULL
) STRICT;
CREATE INDEX runs_by_time ON runs (created_utc, id);

-- A physical device: keyed by its UUID or serial where the report gives one, else by host,
-- local id and name.
CREATE TABLE devices (
  id       INTEGER PRIMARY KEY,
  identity TEXT NOT NULL UNIQUE,
  name     TEXT NOT NULL,
  vendor   TEXT NOT NULL,
  backend  TEXT NOT NULL,
  uuid     TEXT,
  serial   TEXT
) STRICT;

-- The devices of a run, with their id in the report and their properties then (driver, clocks).
CREATE TABLE run_devices (
  run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  device_id  INTEGER NOT NULL REFERENCES devices (id),
  local_id   TEXT    NOT NULL,
  properties TEXT    NOT NULL,
  PRIMARY KEY (run_id, device_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX run_devices_by_device ON run_devices (device_id);

-- A benchmark: name, precision, metric and parameters (JSON object text, '{}' when none).
CREATE TABLE benchmarks (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  grp         TEXT NOT NULL,
  precision   TEXT NOT NULL,
  metric      TEXT NOT NULL,
  parameters  TEXT NOT NULL,
  description TEXT NOT NULL,
  UNIQUE (name, precision, metric, parameters)
) STRICT;

-- One result of a run: a benchmark on a device. Rates in ops/s or B/s, clocks in MHz.
CREATE TABLE results (
  id                INTEGER PRIMARY KEY,
  run_id            INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  device_id         INTEGER NOT NULL REFERENCES devices (id),
  benchmark_id      INTEGER NOT NULL REFERENCES benchmarks (id),
  status            TEXT    NOT NULL CHECK (status IN ('ok', 'skipped', 'invalid')),
  reason            TEXT    NOT NULL,
  verified          INTEGER NOT NULL CHECK (verified IN (0, 1)),
  suspect           INTEGER NOT NULL CHECK (suspect IN (0, 1)),
  suspect_reasons   TEXT,
  stop_reason       TEXT    NOT NULL,
  median            REAL    NOT NULL,
  min               REAL    NOT NULL,
  max               REAL    NOT NULL,
  q1                REAL    NOT NULL,
  q3                REAL    NOT NULL,
  cv                REAL    NOT NULL,
  sample_count      INTEGER NOT NULL,
  clock_mhz         REAL,
  throttled_samples INTEGER NOT NULL,
  theoretical       REAL,
  fraction          REAL
) STRICT;
CREATE INDEX results_trend ON results (device_id, benchmark_id, run_id);
CREATE INDEX results_by_run ON results (run_id);

-- The samples of a result: sample_count IEEE 754 binary64 values, little-endian, in sample
-- order; clocks NULL when no sample read one (NaN for a sample that did not).
CREATE TABLE samples (
  result_id INTEGER PRIMARY KEY REFERENCES results (id) ON DELETE CASCADE,
  rates     BLOB NOT NULL,
  clocks    BLOB
) STRICT;

-- A certificate's pass/fail checks (source_kind 'certificate'); its measurements are results.
CREATE TABLE checks (
  id        INTEGER PRIMARY KEY,
  run_id    INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  device_id INTEGER REFERENCES devices (id),
  name      TEXT NOT NULL,
  outcome   TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'undetermined')),
  detail    TEXT NOT NULL
) STRICT;
CREATE INDEX checks_by_run ON checks (run_id);
)sql"},
      {2, "certificates: the sealed document of each certificate run and what its integrity check found",
       R"sql(
-- One row per run ingested from a certificate (chipgauge.certificate/1): the file's text as
-- sealed, so it can be verified again with another key, and what ingest found. integrity is
-- 'verified' (intact and signed by the key given at ingest), 'unsigned' (intact, no signature,
-- no key given), 'unauthenticated' (intact and validly signed, no key given: the signer is
-- unknown) or 'failed' (changed since sealing, a bad signature, or not the given key's). Only
-- 'verified' is ever shown as verified. end_utc is the certification's end (Unix seconds, UTC).
CREATE TABLE certificates (
  run_id         INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
  device_id      INTEGER NOT NULL REFERENCES devices (id),
  node           TEXT    NOT NULL,
  verdict        TEXT    NOT NULL CHECK (verdict IN ('pass', 'fail', 'inconclusive')),
  sheet_id       TEXT,
  tpp_measured   REAL,
  end_utc        INTEGER NOT NULL,
  integrity      TEXT    NOT NULL CHECK (integrity IN ('verified', 'unsigned', 'unauthenticated', 'failed')),
  signer_key_id  TEXT,
  trusted_key_id TEXT,
  findings       TEXT    NOT NULL,
  document       TEXT    NOT NULL
) STRICT;
CREATE INDEX certificates_by_device ON certificates (device_id, end_utc);
)sql"},
  };
  return list;
}

}  // namespace chipgauge::history
