"""The result store of an experiment: ``results/<experiment>/``, written run by run, never half.

Layout::

    manifest.json            provenance, progress and the checksum of every table file
    checksums.jsonl          checksums of files written since the manifest was last written
    spec.json                the resolved experiment that spec_hash hashes (scenarios included)
    experiment.toml          a copy of the experiment file as it was run
    .lock                    held by the sweep writing the store (:mod:`.store_lock`)
    .reserve                 space set aside so a full disk can still be recorded
    runs/part-<run_id>.parquet        one row per run      } shards, written as runs finish
    kpis/part-<run_id>.parquet        long KPI rows        }
    timeseries/part-<run_id>.parquet  long time-series rows}
    lever_costs/part-<run_id>.parquet what each lever spent, by step and region}
    runs.parquet, kpis.parquet, timeseries.parquet, lever_costs.parquet   consolidated tables

Tables (all long; ``point`` is 0 for scenario runs, the design point number otherwise):

* ``runs``: run_id, scenario, point, point_key, replicate, seed, root_seed, spawn_key ("(p, r)"),
  params (JSON of the design's overrides), status ("ok" | "failed"), error, traceback,
  wall_time and cpu_time (s; cpu_time is the run's own thread, so wall_time >> cpu_time means
  the machine was oversubscribed), started (UTC ISO time), worker (host:pid), n_kpis, n_rows;
* ``kpis``: run_id, scenario, point, replicate, seed, kpi, value;
* ``timeseries``: run_id, scenario, point, replicate, seed, step, year, region, metric, value;
* ``lever_costs``: run_id, scenario, point, replicate, seed, step, year, lever, region, cost (k€ of
  the real region; rows only where a lever spent something, summing to the ``public_cost``
  series; empty for models that do not report lever costs and for stores written before it).

Why shards: each finished run is written at once as small files, so memory stays flat however
long the sweep, and a killed process loses at most the runs in flight. Every file is written
under a temporary name and ``os.replace``d into place, so no reader ever sees half a file. A
run's ``runs`` shard is written last and is its commit mark: KPI and time-series rows count only
for runs whose (latest) ``runs`` row says ``ok``. :meth:`Store.consolidate` merges shards into
the single files, atomically and table by table; a shard overrides consolidated rows of the same
run, so readers give the same tables whichever layout, or mix of layouts, is on disk.

Integrity (:mod:`.integrity`): every shard and consolidated table is recorded (SHA-256, size,
and per row group for consolidated tables) from the bytes as written, before it is renamed into
place; :meth:`Store.verify` compares the files with their records and names the runs a damaged
store has lost, and :meth:`Store.repair` removes what was lost so a resumed sweep runs those
runs again. Reading a file that is not valid Parquet raises :class:`StoreDamaged`, one line
naming the file.

A full disk: every write goes to a temporary file first (removed again if the write fails), so
a failed write leaves the store as it was. :meth:`Store.reserve` sets space aside at the start
of a session, which :meth:`Store.release_reserve` frees so the manifest can still say what
happened.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cluster_abm.errors import InputError
from cluster_abm.experiments import integrity
from cluster_abm.experiments.integrity import JOURNAL, Verification

TABLES = ("runs", "kpis", "timeseries", "lever_costs")
MANIFEST = "manifest.json"
SPEC = "spec.json"
EXPERIMENT_COPY = "experiment.toml"
RESERVE = ".reserve"
RESERVE_MIN = 1 << 16  # bytes set aside beyond the manifest's size (see Store.reserve)
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
COMPRESSION = "zstd"
ROW_GROUP_ROWS = 100_000  # rows per row group; consolidation buffers one (~20 MB)
SORTED_KEY = b"cluster_abm.sorted_by_run_id"

_ID_COLS = [("run_id", pa.string()), ("scenario", pa.string()), ("point", pa.int64())]
SCHEMAS: dict[str, pa.Schema] = {
    "runs": pa.schema(_ID_COLS + [
        ("point_key", pa.int64()), ("replicate", pa.int64()), ("seed", pa.int64()),
        ("root_seed", pa.int64()), ("spawn_key", pa.string()), ("params", pa.string()),
        ("status", pa.string()), ("error", pa.string()), ("traceback", pa.string()),
        ("wall_time", pa.float64()), ("cpu_time", pa.float64()), ("started", pa.string()),
        ("worker", pa.string()),
        ("n_kpis", pa.int64()), ("n_rows", pa.int64()),
    ]),
    "kpis": pa.schema(_ID_COLS + [
        ("replicate", pa.int64()), ("seed", pa.int64()), ("kpi", pa.string()),
        ("value", pa.float64()),
    ]),
    "timeseries": pa.schema(_ID_COLS + [
        ("replicate", pa.int64()), ("seed", pa.int64()), ("step", pa.int64()),
        ("year", pa.float64()), ("region", pa.string()), ("metric", pa.string()),
        ("value", pa.float64()),
    ]),
    "lever_costs": pa.schema(_ID_COLS + [
        ("replicate", pa.int64()), ("seed", pa.int64()), ("step", pa.int64()),
        ("year", pa.float64()), ("lever", pa.string()), ("region", pa.string()),
        ("cost", pa.float64()),
    ]),
}
# Columns that record how and when a run ran, not what it produced: they differ between
# executors and sessions, and are left out when comparing results for reproducibility.
TIMING_COLUMNS = ("wall_time", "cpu_time", "started", "worker")


def to_parquet_bytes(table: pa.Table) -> bytes:
    """Serialise one shard; done in the worker so the runner process only moves bytes to disk."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression=COMPRESSION)
    return sink.getvalue().to_pybytes()


class StoreDamaged(InputError):
    """A store's file is not what was written (a one-line error naming it)."""


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or the user's quota) is full, as Python or Arrow word it."""
    if isinstance(exc, OSError) and exc.errno in DISK_FULL:
        return True
    text = str(exc)
    return isinstance(exc, OSError) and ("No space left on device" in text
                                         or "Disk quota exceeded" in text)


def _open_write(path: Path, mode: str = "wb"):
    """Open a store file for writing. Every byte the store writes goes through here (and every
    file it deletes through :func:`_remove`), so tests can play a disk that fills up."""
    return open(path, mode)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def _temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old file or the whole new one;
    if the write fails (a full disk) the temporary file is removed and the old file stays."""
    tmp = _temp_path(path)
    try:
        with _open_write(tmp) as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write(path, (json.dumps(data, indent=2, sort_keys=False, default=str) + "\n").encode())


class Store:
    """One experiment's folder of results (see the module docstring for the layout)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # --- files ------------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    def shard_dir(self, table: str) -> Path:
        return self.path / table

    def shard_path(self, table: str, run_id: str) -> Path:
        return self.shard_dir(table) / f"part-{run_id}.parquet"

    def consolidated_path(self, table: str) -> Path:
        return self.path / f"{table}.parquet"

    def shards(self, table: str) -> dict[str, Path]:
        """{run_id: shard path} of ``table``, sorted by run id (temporary files excluded)."""
        d = self.shard_dir(table)
        if not d.is_dir():
            return {}
        found = {p.name[len("part-"):-len(".parquet")]: p for p in d.glob("part-*.parquet")}
        return dict(sorted(found.items()))

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def has_results(self) -> bool:
        """Whether any result file (shard or consolidated table) is on disk."""
        return any(self.consolidated_path(t).is_file() or self.shards(t) for t in TABLES)

    def read_manifest(self) -> dict[str, Any]:
        """The manifest; :class:`StoreDamaged` (one line naming it) if it is not a JSON object."""
        try:
            data = json.loads(self.manifest_path.read_bytes().decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise StoreDamaged(f"damaged: not a whole manifest ({type(exc).__name__}: "
                               f"{' '.join(str(exc).split())[:80]}); move the store away or pass "
                               "--overwrite to start it again", source=str(self.manifest_path)) from None
        if not isinstance(data, dict):
            raise StoreDamaged("damaged: not a manifest (no JSON object); move the store away or "
                               "pass --overwrite", source=str(self.manifest_path))
        return data

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.manifest_path, manifest)

    def write_text(self, name: str, text: str) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path / name, text.encode())

    def prepare(self) -> None:
        """Create the shard folders and remove temporary files a killed writer left behind."""
        for t in TABLES:
            self.shard_dir(t).mkdir(parents=True, exist_ok=True)
        for p in self._temp_files():
            p.unlink(missing_ok=True)

    def _temp_files(self) -> list[Path]:
        if not self.path.is_dir():
            return []
        out = list(self.path.glob(".*.tmp"))
        for t in TABLES:
            if self.shard_dir(t).is_dir():
                out += list(self.shard_dir(t).glob(".*.tmp"))
        return out

    def reset(self) -> None:
        """Delete this store's own files (and nothing else a user may have put in the folder)."""
        for name in (MANIFEST, SPEC, EXPERIMENT_COPY, JOURNAL, RESERVE):
            (self.path / name).unlink(missing_ok=True)
        for p in self._temp_files():
            p.unlink(missing_ok=True)
        for t in TABLES:
            self.consolidated_path(t).unlink(missing_ok=True)
            for p in self.shards(t).values():
                p.unlink(missing_ok=True)
            d = self.shard_dir(t)
            if d.is_dir() and not any(d.iterdir()):
                d.rmdir()

    # --- checksums (see cluster_abm.experiments.integrity) --------------------------------------
    @property
    def journal_path(self) -> Path:
        return self.path / JOURNAL

    def relpath(self, path: Path) -> str:
        return path.relative_to(self.path).as_posix()

    def table_files(self) -> dict[str, Path]:
        """{relative path: path} of every table file on disk: consolidated tables and shards."""
        out = {}
        for t in TABLES:
            cons = self.consolidated_path(t)
            if cons.is_file():
                out[self.relpath(cons)] = cons
            for p in self.shards(t).values():
                out[self.relpath(p)] = p
        return out

    def checksum_records(self) -> dict[str, Any] | None:
        """Every file's record: the journal applied over the manifest's ``checksums`` (the
        journal is read first, see :func:`.integrity.fold`); None for a store written before
        checksums were kept."""
        journal = integrity.open_journal(self.journal_path)  # before the manifest: see there
        try:
            manifest = self.read_manifest() if self.exists() else {}
            if "checksums" not in manifest and journal is None:
                return None
            return integrity.fold(manifest.get("checksums"), integrity.journal_lines(journal))
        finally:
            if journal is not None:
                journal.close()

    def settled_checksums(self) -> dict[str, Any]:
        """The records to write into the manifest (then :meth:`clear_journal`)."""
        return integrity.settled(self.checksum_records() or {}, self.path)

    def clear_journal(self) -> None:
        """Forget the journal once the manifest holds its records."""
        _remove(self.journal_path)

    def _journal(self, *entries: dict[str, Any]) -> None:
        data = b"".join(json.dumps(e, separators=(",", ":")).encode() + b"\n" for e in entries)
        with _open_write(self.journal_path, "ab") as fh:
            fh.write(data)

    def _commit(self, files: list[tuple[Path, bytes]]) -> None:
        """Write table files: temporary files, their records, the renames into place (in the
        order given), then the mark that they are in place."""
        tmps = [(_temp_path(path), path, data) for path, data in files]
        try:
            for tmp, _, data in tmps:
                with _open_write(tmp) as fh:
                    fh.write(data)
            self._journal(*({"put": self.relpath(path), "sha256": integrity.sha256_bytes(data),
                             "bytes": len(data)} for _, path, data in tmps))
            for tmp, path, _ in tmps:
                os.replace(tmp, path)
        except BaseException:
            for tmp, _, _ in tmps:
                _remove(tmp)
            raise
        self._journal({"placed": [self.relpath(path) for path, _ in files]})

    def verify(self, committed: set[str] | None = None) -> Verification:
        """Check every table file against its checksum (:func:`.integrity.verify`)."""
        return integrity.verify(self, committed)

    def repair(self, report: Verification) -> None:
        """Remove what ``report`` found lost, so the store reads as if those runs never ran.

        Shards that were damaged or had no record go, with every shard of a lost run;
        consolidated tables are rewritten from their intact row groups without the lost runs'
        rows (a table whose footer is damaged, or that is gone, loses all its rows). The lost
        runs are then simply not stored: a resumed sweep runs them again. The ``runs`` table,
        the commit mark, is repaired first, so a repair cut short leaves those runs not stored
        rather than stored without their rows.
        """
        if report.ok:
            return
        ranges = report.lost_ranges
        lost_ids = report.lost_runs
        problems = {p.path: p for p in report.problems}

        def lost(run_id: str) -> bool:
            return run_id in lost_ids or any(lo <= run_id <= hi for lo, hi in ranges)

        keep = None
        if lost_ids:
            keep = pc.invert(pc.field("run_id").isin(pa.array(sorted(lost_ids), pa.string())))
        for lo, hi in ranges:
            out = pc.invert((pc.field("run_id") >= lo) & (pc.field("run_id") <= hi))
            keep = out if keep is None else keep & out
        for t in ("runs", "kpis", "timeseries", "lever_costs"):
            drops = [p for rid, p in self.shards(t).items()
                     if self.relpath(p) in problems or lost(rid)]
            cons = self.consolidated_path(t)
            rel = self.relpath(cons)
            gone = [rel] if rel in problems and not cons.is_file() else []
            if drops or gone:
                self._journal(*({"drop": r} for r in [*map(self.relpath, drops), *gone]))
            for p in drops:
                _remove(p)
            if not cons.is_file():
                continue
            problem = problems.get(rel)
            if problem is not None and problem.whole:
                self._journal({"drop": rel})
                _remove(cons)
            elif problem is not None or (keep is not None and _has_rows(cons, keep)):
                self._rewrite(t, cons, problem.intact_groups if problem is not None else None,
                              keep)

    def _rewrite(self, table: str, cons: Path, groups: list[int] | None,
                 keep: pc.Expression | None) -> None:
        """Rewrite a consolidated table from its row groups ``groups`` (all if None), keeping
        the rows ``keep`` selects."""
        f = pq.ParquetFile(cons)
        sorted_ = (f.schema_arrow.metadata or {}).get(SORTED_KEY) == b"1"
        tmp = _temp_path(cons)
        with _BufferedWriter(tmp, SCHEMAS[table], sorted_=sorted_) as writer:
            for i in range(f.num_row_groups) if groups is None else groups:
                t = f.read_row_group(i).replace_schema_metadata(None)
                t = t.filter(keep) if keep is not None else t
                if t.num_rows:
                    writer.write(t)
        self._place(tmp, cons, writer)

    def _place(self, tmp: Path, cons: Path, writer: _BufferedWriter) -> None:
        """Record a consolidated table written to ``tmp`` and rename it into place."""
        try:
            record = integrity.parquet_record(tmp, writer.group_runs)
            self._journal({"put": self.relpath(cons), **record})
            os.replace(tmp, cons)
        except BaseException:
            _remove(tmp)
            raise
        self._journal({"placed": [self.relpath(cons)]})

    # --- space for the last word ----------------------------------------------------------------
    def reserve(self, size: int) -> None:
        """Set aside ``size`` bytes (room for one more manifest): if the disk fills up during
        the sweep, :meth:`release_reserve` frees them so the manifest can still be rewritten to
        say so."""
        self.path.mkdir(parents=True, exist_ok=True)
        path = self.path / RESERVE
        try:
            with _open_write(path) as fh:
                fh.write(bytes(size))
        except BaseException:
            _remove(path)
            raise

    def release_reserve(self) -> None:
        _remove(self.path / RESERVE)

    def size_bytes(self) -> int:
        """Bytes of every file in the store."""
        if not self.path.is_dir():
            return 0
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())

    # --- writing ----------------------------------------------------------------------------
    def write_run(self, run_id: str, runs: bytes, kpis: bytes | None,
                  timeseries: bytes | None, lever_costs: bytes | None = None) -> None:
        """Store one finished run: its KPI, series and lever-cost shards first, its ``runs`` row
        last (the commit mark); each file recorded before it is renamed into place."""
        files = []
        for table, data in (("kpis", kpis), ("timeseries", timeseries),
                            ("lever_costs", lever_costs), ("runs", runs)):
            if data is not None:
                self.shard_dir(table).mkdir(parents=True, exist_ok=True)
                files.append((self.shard_path(table, run_id), data))
        self._commit(files)

    # --- reading ----------------------------------------------------------------------------
    def _effective_runs(self, columns: list[str] | None = None) -> pa.Table:
        """The runs table: consolidated rows, overridden run by run by shards."""
        schema = SCHEMAS["runs"]
        cols = columns if columns is None or "run_id" in columns else ["run_id", *columns]
        shards = self.shards("runs")
        parts = []
        cons = self.consolidated_path("runs")
        if cons.is_file():
            with _naming(cons):
                t = pq.ParquetFile(cons).read(columns=cols).replace_schema_metadata(None)
            if shards:
                t = t.filter(pc.invert(pc.is_in(t["run_id"], pa.array(list(shards)))))
            parts.append(t)
        if shards:
            parts.append(_read_files(list(shards.values()), schema, cols, None))
        if not parts:
            return _empty(schema, cols)
        return _concat_sorted(parts, sorted_=len(parts) == 1 and _is_sorted_file(cons, parts))

    def ok_run_ids(self) -> set[str]:
        t = self._effective_runs(["run_id", "status"])
        return set(pc.filter(t["run_id"], pc.equal(t["status"], "ok")).to_pylist())

    def run_status(self) -> dict[str, str]:
        """{run_id: status} of every stored run."""
        t = self._effective_runs(["run_id", "status"])
        return dict(zip(t["run_id"].to_pylist(), t["status"].to_pylist(), strict=True))

    def read_arrow(self, table: str, columns: list[str] | None = None,
                   filter: pc.Expression | None = None) -> pa.Table:
        """One table as Arrow, from whichever layout is on disk (see the module docstring)."""
        if table not in SCHEMAS:
            raise ValueError(f"unknown table {table!r}; tables: {', '.join(TABLES)}")
        if table == "runs":
            t = self._effective_runs(columns)
            t = t.filter(filter) if filter is not None else t
            return t.select(columns) if columns is not None else t
        schema = SCHEMAS[table]
        cols = columns if columns is None or "run_id" in columns else ["run_id", *columns]
        shards = self.shards(table)
        cons = self.consolidated_path(table)
        parts = []
        ok = self.ok_run_ids() if shards else None
        if cons.is_file():
            expr = filter
            if shards:
                keep = pc.invert(pc.field("run_id").isin(list(shards)))
                expr = keep if expr is None else expr & keep
            # one big file: let Parquet stream it and filter per row group
            with _naming(cons):
                t = pq.read_table(cons, columns=cols, filters=expr) if expr is not None else (
                    pq.ParquetFile(cons).read(columns=cols))
            parts.append(t.replace_schema_metadata(None))
        live = [p for rid, p in shards.items() if rid in ok] if shards else []
        if live:
            parts.append(_read_files(live, schema, cols, filter))
        if not parts:
            return _empty(schema, cols)
        out = _concat_sorted(parts, sorted_=len(parts) == 1 and _is_sorted_file(cons, parts))
        if columns is not None and "run_id" not in columns:
            out = out.select(columns)
        return out

    def read(self, table: str, columns: list[str] | None = None,
             filter: pc.Expression | None = None) -> Any:
        """One table as a pandas DataFrame, rows in run-id order (model order within a run)."""
        return self.read_arrow(table, columns, filter).to_pandas()

    # --- consolidation ------------------------------------------------------------------------
    def consolidate(self) -> dict[str, int]:
        """Merge every table's shards into ``<table>.parquet``; return rows written per table.

        Streams shard by shard (memory stays near ``ROW_GROUP_ROWS`` rows), writes to a
        temporary file and replaces the old table atomically, then deletes the merged shards.
        The runs table goes last, so at every instant the store reads the same as before.
        """
        counts = {}
        ok = self.ok_run_ids()
        for table in ("kpis", "timeseries", "lever_costs", "runs"):
            shards = self.shards(table)
            cons = self.consolidated_path(table)
            if not shards:
                if cons.is_file():
                    with _naming(cons):
                        counts[table] = pq.ParquetFile(cons).metadata.num_rows
                continue
            schema = SCHEMAS[table]
            tmp = _temp_path(cons)
            add = [p for rid, p in shards.items() if table == "runs" or rid in ok]
            keep_old = None
            if cons.is_file():
                keep_old = pc.invert(pc.field("run_id").isin(list(shards)))
                if table != "runs":
                    keep_old = keep_old & pc.field("run_id").isin(list(ok))
            old_batches = _filtered_batches(cons, schema, keep_old) if keep_old is not None else []
            first = next(iter(old_batches), None)
            with _BufferedWriter(tmp, schema, sorted_=first is None or not add) as writer:
                if first is not None:
                    writer.write(first)
                    for t in old_batches:
                        writer.write(t)
                for p in add:
                    with _naming(p):
                        writer.write(pq.ParquetFile(p).read().replace_schema_metadata(None))
            self._place(tmp, cons, writer)
            counts[table] = writer.rows
            # recorded as merged before they go: a kill in between leaves identical leftovers
            self._journal(*({"drop": self.relpath(p)} for p in shards.values()))
            for p in shards.values():
                _remove(p)
        for t in TABLES:
            d = self.shard_dir(t)
            if d.is_dir() and not any(d.iterdir()):
                d.rmdir()
        return counts

    def layout(self) -> str:
        """'consolidated', 'shards', 'mixed' or 'empty' -- informational."""
        cons = any(self.consolidated_path(t).is_file() for t in TABLES)
        shards = any(self.shards(t) for t in TABLES)
        return {(True, False): "consolidated", (False, True): "shards",
                (True, True): "mixed"}.get((cons, shards), "empty")


class _BufferedWriter:
    """ParquetWriter that gathers small tables into row groups of about ROW_GROUP_ROWS rows,
    and notes the first and last run id of each group (for the table's checksum record)."""

    def __init__(self, path: Path, schema: pa.Schema, sorted_: bool):
        self.path = path
        self.schema = schema.with_metadata({SORTED_KEY: b"1" if sorted_ else b"0"})
        self.buffer: list[pa.Table] = []
        self.buffered = 0
        self.rows = 0
        self.group_runs: list[tuple[str, str]] = []
        self.writer: pq.ParquetWriter | None = None
        self.fh = None

    def __enter__(self) -> _BufferedWriter:
        return self

    def write(self, table: pa.Table) -> None:
        self.buffer.append(table)
        self.buffered += table.num_rows
        if self.buffered >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self.writer is None:
            self.fh = _open_write(self.path)
            self.writer = pq.ParquetWriter(self.fh, self.schema, compression=COMPRESSION)
        if self.buffer:
            t = pa.concat_tables(self.buffer).replace_schema_metadata(self.schema.metadata)
            for start in range(0, t.num_rows, ROW_GROUP_ROWS):  # one row group per write
                part = t.slice(start, ROW_GROUP_ROWS)
                self.writer.write_table(part, row_group_size=ROW_GROUP_ROWS)
                bounds = pc.min_max(part["run_id"])
                self.group_runs.append((bounds["min"].as_py(), bounds["max"].as_py()))
            self.rows += t.num_rows
        self.buffer, self.buffered = [], 0

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self._flush()
            if self.writer is not None:
                self.writer.close()
            if self.fh is not None:
                self.fh.close()
        except BaseException:
            _remove(self.path)
            raise
        finally:
            if self.fh is not None and not self.fh.closed:
                self.fh.close()
        if exc_type is not None:
            _remove(self.path)


def _read_files(paths: Iterable[Path], schema: pa.Schema, columns: list[str] | None,
                filter: pc.Expression | None) -> pa.Table:
    """Read and concatenate files one by one.

    A plain loop, not ``pyarrow.dataset``: over thousands of small shards the dataset scanner
    keeps ~100 MB of per-fragment state and read-ahead buffers, which is the opposite of what a
    long sweep needs, and it is no faster.
    """
    tables = []
    for p in paths:
        with _naming(p):
            t = pq.ParquetFile(p).read(columns=columns)
        if filter is not None:
            t = t.filter(filter)
        if t.num_rows:
            tables.append(t.replace_schema_metadata(None))
    if not tables:
        return _empty(schema, columns)
    return pa.concat_tables(tables)


def _filtered_batches(path: Path, schema: pa.Schema, expr: pc.Expression) -> Iterator[pa.Table]:
    """Non-empty filtered slices of a big Parquet file, one row group at a time."""
    with _naming(path):
        f = pq.ParquetFile(path)
    for i in range(f.num_row_groups):
        with _naming(path):
            t = f.read_row_group(i).replace_schema_metadata(None).filter(expr)
        if t.num_rows:
            yield t


def _has_rows(path: Path, keep: pc.Expression) -> bool:
    """Whether some row of a Parquet file is not selected by ``keep``."""
    t = pq.read_table(path, columns=["run_id"])
    return t.filter(keep).num_rows != t.num_rows


class _naming:
    """Turn Arrow's complaints about a file that is not valid Parquet into :class:`StoreDamaged`
    naming the file (a missing file stays a FileNotFoundError: a sweep may have just merged
    it)."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is None:
            return
        # Arrow reports a file it cannot decode as ArrowInvalid or as an OSError without an
        # errno; an OSError with one (missing, not permitted, disk full) is about the disk
        if isinstance(exc, pa.ArrowInvalid) or (isinstance(exc, OSError) and exc.errno is None
                                                and not is_disk_full(exc)):
            raise StoreDamaged(f"damaged: not a whole Parquet file ({' '.join(str(exc).split())[:120]}); "
                               "`cluster-abm verify` names the runs it holds, and running the sweep "
                               "again re-runs them", source=str(self.path)) from None


def _empty(schema: pa.Schema, columns: list[str] | None) -> pa.Table:
    t = schema.empty_table()
    return t.select(columns) if columns is not None else t


def _is_sorted_file(cons: Path, parts: list[pa.Table]) -> bool:
    """Whether the single part read is a consolidated file written in run-id order."""
    if not cons.is_file():
        return False  # shards only: read in file (= run id) order, but sort to be safe
    meta = pq.read_schema(cons).metadata or {}
    return meta.get(SORTED_KEY) == b"1"


def _concat_sorted(parts: list[pa.Table], sorted_: bool) -> pa.Table:
    """Concatenate and order rows by run id, keeping the model's order within a run (stable)."""
    t = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    t = t.replace_schema_metadata(None)
    if sorted_ or t.num_rows < 2:
        return t
    return t.take(pc.sort_indices(t, sort_keys=[("run_id", "ascending")]))
