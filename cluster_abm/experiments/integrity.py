"""Checksums of a result store's tables, and what a damaged store has lost.

Every shard and consolidated table a store writes has a record -- SHA-256 and size -- made
from the bytes as written, before the file is renamed into place. Records travel in two places:
the manifest's ``checksums`` (folded in at the start and the end of every session) and, between
those moments, an append-only journal ``checksums.jsonl`` beside it (one JSON object a line),
so a sweep pays one short append per file however long it runs. A reader applies the journal
over the manifest (:func:`fold`); a journal line cut short by a kill is skipped, which can only
leave a file without a record, i.e. one more run to redo, never a wrong number accepted.

A consolidated table's record also holds, per Parquet row group, its byte range, the SHA-256 of
those bytes and the first and last run id it holds, plus a hash of the bytes around the groups
(the Parquet header and footer). One flipped byte in a large table then costs the runs of one
row group, not the whole table: the other groups are read back through the intact footer
(:meth:`cluster_abm.experiments.store.Store.repair`).

Records (``path`` relative to the store, with ``/``)::

    {"put": path, "sha256": hex, "bytes": n}                 a shard
    {"put": path, "sha256": hex, "bytes": n, "groups": [[offset, length, sha256, first_run_id,
     last_run_id], ...], "frame": hex}                        a consolidated table
    {"placed": [path, ...]}                                   renamed into place
    {"drop": path}                                            merged into a table, or deleted

A file is recorded (``put``) before it is renamed into place and marked ``placed`` after, so a
process killed in between leaves a record of a file that never arrived -- a write that was not
finished, not a file that was lost -- or the previous file in place, which the new record keeps
as its ``alt`` and which is as good as before. A dropped
record is kept (``dropped``) while its file is still on disk: a shard merged into a table but not
yet deleted when the process died is identical to rows in the table, so it is left over, not
damage.

:func:`verify` compares what is on disk with the records and says which runs a damaged store
has lost (:class:`Verification`): a shard that differs from its record, or that is on disk
without one, loses its run; a missing shard loses its run if the run was stored ok; a consolidated
table that differs loses the runs of the row groups whose bytes differ (all its groups if its
footer differs or the file is gone).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

JOURNAL = "checksums.jsonl"
READ_CHUNK = 1 << 20  # bytes read at a time while hashing a large table


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(READ_CHUNK):
            h.update(chunk)
    return h.hexdigest()


# --- records ----------------------------------------------------------------------------------
def open_journal(path: Path):
    """The journal opened for reading, or None. Open it *before* reading the manifest: a writer
    folds the journal into the manifest and then deletes it, and an open file stays readable."""
    try:
        return open(path, "rb")
    except FileNotFoundError:
        return None


def journal_lines(fh) -> Iterator[dict[str, Any]]:
    """The records of an open journal in order, read as they are needed; a line that is not a
    whole record (a kill mid-append, damage) is skipped."""
    if fh is None:
        return
    for line in fh:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and (isinstance(entry.get("put"), str)
                                        or isinstance(entry.get("drop"), str)
                                        or isinstance(entry.get("placed"), list)):
            yield entry


def fold(records: dict[str, Any] | None, lines: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """``records`` (a manifest's ``checksums``) with journal ``lines`` applied in order.

    Applying the same lines twice gives the same records, so a journal that outlived the
    manifest it was folded into (a kill in between) does no harm.
    """
    out = {k: v for k, v in (records or {}).items() if isinstance(v, dict)}
    for entry in lines:
        if "put" in entry:
            path = entry.pop("put")
            rec = entry
            old = out.get(path)
            if old is not None and not old.get("dropped"):
                # the file on disk now: the old record's if it was placed, else its alternative
                prev = ({k: v for k, v in old.items() if k != "alt"} if old.get("placed")
                        else old.get("alt"))
                if prev and prev.get("sha256") != rec.get("sha256"):
                    rec["alt"] = prev
            out[path] = rec
        elif "placed" in entry:
            for path in entry["placed"]:
                rec = out.get(path) if isinstance(path, str) else None
                if rec is not None and not rec.get("dropped"):
                    rec.pop("alt", None)
                    rec["placed"] = True
        else:
            old = out.get(entry["drop"])
            if old is not None:
                out[entry["drop"]] = {"sha256": old.get("sha256"), "bytes": old.get("bytes"),
                                      "dropped": True}
    return out


def settled(records: dict[str, Any], root: Path) -> dict[str, Any]:
    """Records to keep in a manifest: dropped ones, and unfinished writes, whose file is not
    on disk are forgotten."""
    return {k: v for k, v in records.items()
            if (v.get("placed") and not v.get("dropped")) or (root / k).exists()}


def parquet_record(path: Path, group_runs: list[tuple[str, str]]) -> dict[str, Any]:
    """The record of a consolidated table just written at ``path`` (one pass over its bytes).

    ``group_runs`` are the first and last run id of each row group, in file order.
    """
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    if meta.num_row_groups != len(group_runs):
        raise RuntimeError(f"{path}: {meta.num_row_groups} row groups written, "
                           f"{len(group_runs)} expected")
    spans = []
    for i in range(meta.num_row_groups):
        rg = meta.row_group(i)
        starts, ends = [], []
        for j in range(rg.num_columns):
            col = rg.column(j)
            start = col.data_page_offset
            if col.has_dictionary_page and col.dictionary_page_offset:
                start = min(start, col.dictionary_page_offset)
            starts.append(start)
            ends.append(start + col.total_compressed_size)
        spans.append((min(starts), max(ends)))
    size = path.stat().st_size
    whole = hashlib.sha256()
    frame = hashlib.sha256()
    groups = []
    with open(path, "rb") as fh:
        pos = 0
        for (start, end), (first, last) in zip(spans, group_runs, strict=True):
            _feed(fh, pos, start, whole, frame)
            g = hashlib.sha256()
            _feed(fh, start, end, whole, g)
            groups.append([start, end - start, g.hexdigest(), first, last])
            pos = end
        _feed(fh, pos, size, whole, frame)
    return {"sha256": whole.hexdigest(), "bytes": size, "groups": groups,
            "frame": frame.hexdigest()}


def _feed(fh, start: int, end: int, *hashes) -> None:
    """Hash bytes ``[start, end)`` of ``fh`` (read sequentially from ``start``) into ``hashes``."""
    fh.seek(start)
    left = end - start
    while left > 0:
        chunk = fh.read(min(READ_CHUNK, left))
        if not chunk:
            break
        for h in hashes:
            h.update(chunk)
        left -= len(chunk)


def _range_hashes(path: Path, rec: dict[str, Any]) -> tuple[list[bool], bool]:
    """Which row groups of a table still match their record, and whether its frame does."""
    groups = rec.get("groups") or []
    size = path.stat().st_size
    intact = []
    frame = hashlib.sha256()
    with open(path, "rb") as fh:
        pos = 0
        for start, length, digest, _first, _last in groups:
            _feed(fh, pos, start, frame)
            g = hashlib.sha256()
            _feed(fh, start, start + length, g)
            intact.append(start + length <= size and g.hexdigest() == digest)
            pos = start + length
        _feed(fh, pos, size, frame)
    same_frame = size == rec.get("bytes") and frame.hexdigest() == rec.get("frame")
    return intact, same_frame


# --- verification -----------------------------------------------------------------------------
@dataclass
class Problem:
    """One file that does not match its record."""

    path: str  # relative to the store
    what: str  # "differs from its checksum", "missing", "has no checksum", ...
    runs: list[str] = field(default_factory=list)  # runs it loses, by id
    ranges: list[tuple[str, str]] = field(default_factory=list)  # runs it loses, by id range
    intact_groups: list[int] = field(default_factory=list)  # row groups still readable
    whole: bool = True  # the whole file is lost (else only the groups not in intact_groups)


@dataclass
class Verification:
    """What :func:`verify` found in a store."""

    path: Path
    recorded: bool  # the store has checksums (stores written before them have none)
    files: int = 0
    bytes: int = 0
    problems: list[Problem] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)  # merged shards not yet deleted

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def lost_runs(self) -> set[str]:
        return {r for p in self.problems for r in p.runs}

    @property
    def lost_ranges(self) -> list[tuple[str, str]]:
        return sorted({r for p in self.problems for r in p.ranges})

    def lost(self, run_id: str) -> bool:
        """Whether the damage takes ``run_id`` with it."""
        return run_id in self.lost_runs or any(lo <= run_id <= hi for lo, hi in self.lost_ranges)

    def lost_among(self, run_ids: Iterable[str]) -> list[str]:
        return sorted(r for r in run_ids if self.lost(r))

    def describe_lost(self, run_ids: Iterable[str] | None = None, limit: int = 8) -> str:
        """The lost runs in words: by id when known, else by range."""
        if run_ids is not None:
            ids = self.lost_among(run_ids)
            more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
            return f"{len(ids)} run{'s' if len(ids) != 1 else ''}: {', '.join(ids[:limit])}{more}"
        ids = sorted(self.lost_runs)
        parts = ids[:limit] + [f"{lo} to {hi}" if lo != hi else lo for lo, hi in self.lost_ranges]
        more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
        return f"runs {', '.join(parts)}{more}"

    def summary(self) -> str:
        """The damaged files in one line."""
        return "; ".join(f"{p.path} {p.what}" for p in self.problems)


def verify(store: Any, committed: set[str] | None = None) -> Verification:
    """Check every table file of ``store`` against its records (see the module docstring).

    ``committed`` (run ids stored ok, read from the store when needed) decides whether a
    missing shard of a non-``runs`` table loses its run.
    """
    files = store.table_files()  # list the files before reading the records (see fold)
    records = store.checksum_records()
    report = Verification(store.path, recorded=records is not None)
    if records is None:
        return report
    for rel, path in files.items():
        rec = records.get(rel)
        try:
            size = path.stat().st_size
        except FileNotFoundError:  # merged and deleted by a running sweep while we looked
            continue
        report.files += 1
        report.bytes += size
        table, run_id = _parse(rel)
        if rec is None:
            report.problems.append(_lost(rel, "has no checksum (not written by this store)",
                                         table, run_id, None))
            continue
        try:
            digest = sha256_file(path)
        except FileNotFoundError:
            continue
        if digest == rec.get("sha256"):
            if rec.get("dropped"):
                report.leftovers.append(rel)
            continue
        alt = rec.get("alt")
        if alt and digest == alt.get("sha256"):
            continue  # the previous version: its replacement was never put in place
        what = ("differs from its checksum" if size == rec.get("bytes") else
                f"differs from its checksum ({size} bytes, {rec.get('bytes')} written)")
        report.problems.append(_lost(rel, what, table, run_id, rec, path))
    # a record never marked placed is a write that did not finish: nothing arrived, nothing lost
    missing = [rel for rel, rec in records.items()
               if rel not in files and rec.get("placed") and not rec.get("dropped")]
    for rel in missing:
        table, run_id = _parse(rel)
        if run_id is not None and table != "runs":
            if committed is None:
                committed = _committed(store)
            if committed is not None and run_id not in committed:
                continue  # a run that never finished: nothing was lost
        report.problems.append(_lost(rel, "is missing", table, run_id, records[rel]))
    return report


def _committed(store: Any) -> set[str] | None:
    try:
        return store.ok_run_ids()
    except Exception:  # the runs table itself is damaged: count every missing shard as lost
        return None


def _parse(rel: str) -> tuple[str, str | None]:
    """(table, run id) of a shard path, (table, None) of a consolidated table."""
    parts = rel.split("/")
    if len(parts) == 2 and parts[1].startswith("part-") and parts[1].endswith(".parquet"):
        return parts[0], parts[1][len("part-"):-len(".parquet")]
    return parts[-1][:-len(".parquet")] if rel.endswith(".parquet") else rel, None


def _lost(rel: str, what: str, table: str, run_id: str | None, rec: dict[str, Any] | None,
          path: Path | None = None) -> Problem:
    if run_id is not None:
        return Problem(rel, what, runs=[run_id])
    groups = (rec or {}).get("groups") or []
    if rec is None or path is None:  # no record, or the file is gone: every group is lost
        if rec is None:
            return Problem(rel, what, ranges=[("", "\U0010ffff")])
        return Problem(rel, what, ranges=[(g[3], g[4]) for g in groups])
    try:
        intact, same_frame = _range_hashes(path, rec)
    except OSError:
        intact, same_frame = [False] * len(groups), False
    if not same_frame:
        return Problem(rel, what + " (its footer too: every row group is lost)",
                       ranges=[(g[3], g[4]) for g in groups])
    lost = [g for g, ok in zip(groups, intact, strict=True) if not ok]
    return Problem(rel, f"{what} ({len(lost)} of {len(groups)} row groups)",
                   ranges=[(g[3], g[4]) for g in lost],
                   intact_groups=[i for i, ok in enumerate(intact) if ok], whole=False)
