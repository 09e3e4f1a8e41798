"""Reading and checking spec files (TOML): one set of rules for scenario, experiment, study and
calibration files.

Every problem is an :class:`~cluster_abm.errors.InputError` whose message is one line naming the
file, the dotted key (``outputs.series_every``, ``design.params.funding.eu_budget``) and what is
allowed, so a typo is found before a run starts, and reads the same in every kind of file.

* :func:`find_spec_file`: a file given by path or by name (``baseline``).
* :func:`read_toml`: a file's tables; a missing file, a folder, an unreadable file, bytes that
  are not UTF-8, malformed TOML and tables or arrays nested deeper than :data:`MAX_DEPTH` are
  each one line.
* :func:`find_spec_file`: with ``roots``, a reference written *in* a file resolves only inside
  those folders (:func:`inside`), so a file cannot make the program read ``/etc/passwd``.
* :func:`check_keys`: a table whose keys must be among the allowed ones ("did you mean ...").
* ``check_int``, ``check_number``, ``check_bool``, ``check_str``, ``check_str_list``,
  ``check_choice``, ``check_name``, ``check_bounds``: one value, with its bounds or choices.
* :func:`safe_name`: a name turned into one safe folder name (output folders of ``run``).
* :class:`Table`: a table of a file with typed getters that know the file, the table's place
  and each key's default (:data:`REQUIRED` for none), for the loaders' straight-line code.
* :func:`flatten`: dotted names from nested tables (``[params.coop] max_partners = 3``).
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from cluster_abm.errors import InputError, closest

# Names end up in folder names and run ids, so keep them to characters every filesystem accepts.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
MAX_NAME = 100
"""Longest name (scenario, experiment): with a time stamp or run id it stays a legal file name."""
MAX_DEPTH = 32
"""Deepest nesting of tables and arrays a spec file may have (the project's files use 4)."""


class OutsideSearchPath(InputError):
    """A reference written in a file that leads outside the folders it may refer to."""


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""Default of a key that must be given: its absence is an error saying what it needs."""


# --- files ----------------------------------------------------------------------------------------
def read_toml(path: str | Path) -> dict[str, Any]:
    """The tables of a TOML file, or a one-line :class:`InputError` naming the file."""
    source = str(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise InputError("file not found", source=source) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a TOML file", source=source) from None
    except PermissionError:
        raise InputError("cannot read the file: permission denied", source=source) from None
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", source=source) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(f"is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
                         "save it as UTF-8", source=source) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"malformed TOML: {exc}", source=source) from None
    except RecursionError:  # tomllib recurses once per level of nested arrays or inline tables
        raise InputError(f"tables or arrays are nested too deeply; at most {MAX_DEPTH} levels "
                         "are allowed", source=source) from None
    check_depth(data, source)
    return data


def check_depth(data: dict, source: str | None, limit: int = MAX_DEPTH) -> None:
    """A one-line error naming the first key nested more than ``limit`` levels deep.

    Walked without recursion: the loaders' own recursive helpers (merging ``extends``,
    dotted parameter names) then never meet a table deep enough to overflow the stack.
    """
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        if depth > limit:
            raise InputError(f"is nested {depth} levels deep; at most {limit} levels of tables "
                             "and arrays are allowed", source=source, key=_short_key(where))
        if isinstance(value, dict):
            stack += [(v, join(where, str(k)), depth + 1) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]


def _short_key(key: str, width: int = 80) -> str:
    """A dotted key for a message, its middle cut when it is longer than ``width``."""
    return key if len(key) <= width else f"{key[:width // 2]}...{key[-(width // 2):]}"


def spec_names(folders: Iterable[Path]) -> list[str]:
    """Names (stems) of the TOML files in ``folders``, for "did you mean" hints."""
    return sorted({f.stem for d in folders if d.is_dir() for f in d.glob("*.toml")})


def _exists(path: Path, kind: str) -> bool:
    """``path.is_file()`` / ``is_dir()``, False for a name the system cannot even look up (too
    long, a NUL byte) instead of an exception."""
    try:
        return path.is_file() if kind == "file" else path.is_dir()
    except (OSError, ValueError):
        return False


def inside(path: Path, roots: Iterable[Path]) -> bool:
    """Whether ``path`` (symbolic links and ``..`` resolved) lies in one of ``roots``."""
    real = path.resolve()
    return any(real.is_relative_to(r.resolve()) for r in roots)


def find_spec_file(ref: str | Path, folders: list[Path], what: str,
                   relative_to: Path | None = None, roots: list[Path] | None = None) -> Path:
    """Resolve a reference to a spec file: a path (tried next to ``relative_to`` first), or a
    bare name such as ``baseline`` looked up as ``<name>.toml`` in ``folders``.

    ``what`` names the kind of file in the error (``"scenario"``, ``"experiment"``).
    ``roots``: the reference was written in a file, and may only lead to a file inside these
    folders (an absolute path or ``..`` that leaves them is an error saying so); ``None``: the
    path was given on the command line, where any path is the user's own choice.
    """
    ref = str(ref)
    p = Path(ref)
    candidates = []
    if relative_to is not None and not p.is_absolute():
        candidates.append(relative_to / p)
        if p.suffix != ".toml":
            candidates.append(relative_to / f"{ref}.toml")
    candidates.append(p)
    if p.suffix != ".toml" and "/" not in ref and os.sep not in ref:
        candidates += [d / f"{ref}.toml" for d in folders]
    outside = None
    for c in candidates:
        if _exists(c, "file"):
            if roots is None or inside(c, roots):
                return c.resolve()
            outside = outside or c
    if outside is not None:
        shown = ", ".join(str(r) for r in dict.fromkeys(roots))
        raise OutsideSearchPath(f"{ref!r} leads outside the folders a file may refer to ({shown}); "
                         f"copy the {what} file into one of them, or give its path on the "
                         "command line", source=ref)
    if _exists(p, "dir"):
        raise InputError(f"is a folder; give the {what} file (TOML) in it", source=ref)
    raise InputError(f"{what} file not found; {closest(p.stem, spec_names(folders))}",
                     source=ref)


# --- keys -----------------------------------------------------------------------------------------
def join(where: str, key: str) -> str:
    """The dotted key of ``key`` inside the table at ``where`` (``""`` is the file's top)."""
    return f"{where}.{key}" if where else key


def check_keys(table: Any, allowed: Collection[str], source: str, where: str = "") -> dict:
    """``table`` itself if it is a table whose keys are all ``allowed``, else a one-line error."""
    if not isinstance(table, dict):
        raise InputError(f"must be a table, got {_got(table)}", source=source, key=where or None)
    for k in table:
        if k not in allowed:
            raise InputError(f"unknown key; {closest(k, allowed)}", source=source,
                             key=join(where, k))
    return table


def flatten(table: dict, leaf_keys: Collection[str] = (), prefix: str = "", *,
            empty_is_leaf: bool = False) -> dict[str, Any]:
    """Dotted names from nested tables: ``{"coop": {"max_partners": 3}}`` -> ``coop.max_partners``.

    A nested table holding one of ``leaf_keys`` is a value, not a group of names (``{ low = 1,
    high = 2 }`` of a range, ``{ dist = "triang" }`` of a distribution); so is an empty one with
    ``empty_is_leaf`` (then the caller reports it instead of it vanishing).
    """
    out: dict[str, Any] = {}
    for k, v in table.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict) and not (set(v) & set(leaf_keys)) and (v or not empty_is_leaf):
            out.update(flatten(v, leaf_keys, name + ".", empty_is_leaf=empty_is_leaf))
        else:
            out[name] = v
    return out


# --- values ---------------------------------------------------------------------------------------
def _got(value: Any, width: int = 60) -> str:
    """``repr(value)``, cut to ``width`` characters: a message stays one readable line."""
    text = repr(value)
    return text if len(text) <= width else text[:width - 3] + "..."


def range_text(low: float | None = None, high: float | None = None, *, low_open: bool = False,
               high_open: bool = False) -> str:
    """``from 1 to 10``, ``above 0``, ``between 0 and 1 (exclusive)``, ``at most 5``, or ``""``."""
    lo, hi = low, high
    if lo is not None and hi is not None:
        if not low_open and not high_open:
            return f"from {lo} to {hi}"
        if low_open and high_open:
            return f"between {lo} and {hi} (exclusive)"
        return f"above {lo} and at most {hi}" if low_open else f"from {lo} to below {hi}"
    if lo is not None:
        return f"above {lo}" if low_open else f"at least {lo}"
    if hi is not None:
        return f"below {hi}" if high_open else f"at most {hi}"
    return ""


def check_int(value: Any, source: str | None, key: str, low: int | None = None,
              high: int | None = None, *, even: bool = False) -> int:
    """A whole number (not a bool, not 2.0) within [low, high], else a one-line error."""
    rng = range_text(low, high)
    what = ("an even" if even else "a") + " whole number" + (f" {rng}" if rng else "")
    if value is REQUIRED:
        raise InputError(f"is required: {what}", source=source, key=key)
    if (isinstance(value, bool) or not isinstance(value, int)
            or (low is not None and value < low) or (high is not None and value > high)
            or (even and value % 2)):
        raise InputError(f"must be {what}, got {_got(value)}", source=source, key=key)
    return value


def check_number(value: Any, source: str | None, key: str, low: float | None = None,
                 high: float | None = None, *, low_open: bool = False, high_open: bool = False,
                 unit: str = "") -> float:
    """A finite number (int or float, not a bool) within its bounds, as a float."""
    rng = range_text(low, high, low_open=low_open, high_open=high_open)
    unit = f" {unit}" if unit and unit != "-" and rng else ""
    if value is REQUIRED:
        raise InputError(f"is required: a number {rng}{unit}".rstrip(), source=source, key=key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"must be a finite number {rng}{unit}".rstrip() + f", got {_got(value)}",
                         source=source, key=key)
    if ((low is not None and (value <= low if low_open else value < low))
            or (high is not None and (value >= high if high_open else value > high))):
        if low is not None and high is not None and not (low_open or high_open):
            # the parameter registry's wording: scenario files mix both kinds of value
            raise InputError(f"{value!r} is out of range; allowed {low} to {high}{unit}",
                             source=source, key=key)
        raise InputError(f"must be {rng}{unit}, got {value!r}", source=source, key=key)
    return float(value)


def check_bool(value: Any, source: str | None, key: str) -> bool:
    if value is REQUIRED:
        raise InputError("is required: true or false", source=source, key=key)
    if not isinstance(value, bool):
        raise InputError(f"must be true or false, got {_got(value)}", source=source, key=key)
    return value


def check_str(value: Any, source: str | None, key: str, what: str = "a non-empty string") -> str:
    """A non-empty string; ``what`` says what it names (``"a scenario name or path"``)."""
    if value is REQUIRED:
        raise InputError(f"is required: {what}", source=source, key=key)
    if not isinstance(value, str) or not value:
        raise InputError(f"must be {what}, got {_got(value)}", source=source, key=key)
    return value


def check_choice(value: Any, choices: Iterable[str], source: str | None, key: str,
                 what: str = "value") -> str:
    """One of ``choices`` (listed in the message, with the closest for a near miss)."""
    choices = list(choices)
    if value is REQUIRED:
        raise InputError(f"is required: one of {', '.join(choices)}", source=source, key=key)
    if value not in choices:
        near = closest(str(value), choices) if isinstance(value, str) else ""
        hint = f"allowed: {', '.join(choices)}"
        if near.startswith("did you mean"):
            hint = f"{near} ({hint})"
        raise InputError(f"unknown {what} {value!r}; {hint}", source=source, key=key)
    return value


def check_str_list(value: Any, source: str | None, key: str, what: str, *,
                   items: str | None = None, allow_empty: bool = False, allow_str: bool = False,
                   unique: bool = True, known: Collection[str] | None = None) -> list[str]:
    """A list of non-empty strings, each naming a ``what`` (KPI, series, parameter ...).

    ``items`` describes the entries in messages (default ``"<what> names"``); ``allow_str``: a
    single string stands for a list of one; ``known``: every entry must be one of these (an
    unknown one gets the closest names).
    """
    items = items or f"{what} names"
    if value is REQUIRED:
        raise InputError(f"is required: a list of {items}", source=source, key=key)
    if allow_str and isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InputError(f"must be a list of {items}, got {_got(value)}", source=source, key=key)
    if not value and not allow_empty:
        raise InputError(f"must name at least one {what}", source=source, key=key)
    if unique and len(set(value)) != len(value):
        raise InputError(f"lists a {what} twice", source=source, key=key)
    if known is not None:
        for v in value:
            if v not in known:
                raise InputError(f"unknown {what} {v!r}; {closest(v, known)}", source=source,
                                 key=key)
    return value


def check_name(value: Any, source: str | None, key: str = "name",
               names: str = "folders and run ids") -> str:
    """A name that can name folders and run ids (:data:`SAFE_NAME`, at most :data:`MAX_NAME`
    characters), else a one-line error."""
    if not isinstance(value, str) or not SAFE_NAME.match(value) or len(value) > MAX_NAME:
        raise InputError(f"must be a name of at most {MAX_NAME} letters, digits, '_', '.', '+' "
                         f"or '-' (it names {names}), got {_got(value)}", source=source, key=key)
    return value


def safe_name(text: str, width: int = MAX_NAME) -> str:
    """``text`` as one folder name: runs of characters outside :data:`SAFE_NAME` (path
    separators, spaces, ``..``) become ``_``, cut to ``width`` characters. A name that is
    safe already comes back unchanged."""
    name = re.sub(r"[^A-Za-z0-9_.+-]+", "_", text).lstrip("._+-")[:width]
    return name or "scenario"


def check_bounds(low: Any, high: Any, source: str | None, key: str, *,
                 limits: tuple[float | None, float | None] = (None, None), unit: str = "",
                 whole: bool = False) -> tuple[float, float]:
    """A range ``[low, high]`` of a parameter (a search or sampling range) inside ``limits``,
    the parameter registry's bounds; ``whole``: the parameter takes whole numbers."""
    for v in (low, high):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise InputError(f"bounds must be finite numbers, got {v!r}", source=source, key=key)
    if not low < high:
        raise InputError(f"low must be below high, got [{low}, {high}]", source=source, key=key)
    lo, hi = limits
    if (lo is not None and low < lo) or (hi is not None and high > hi):
        raise InputError(f"bounds [{low}, {high}] are outside the registry's [{lo}, {hi}] "
                         f"{unit}".rstrip(), source=source, key=key)
    if whole and (low != int(low) or high != int(high)):
        raise InputError(f"is a whole number; its bounds must be whole numbers, got "
                         f"[{low}, {high}]", source=source, key=key)
    return float(low), float(high)


# --- tables ---------------------------------------------------------------------------------------
class Table:
    """One table of a spec file, checked against its allowed keys, with typed getters.

    ``Table(raw, source, ALLOWED)`` is the file's top; ``table.table("outputs", OUTPUT_KEYS)``
    a sub-table (absent: empty). Getters take the key, a default (:data:`REQUIRED` when there is
    none) and the value's bounds, and raise errors keyed by the dotted path.
    """

    def __init__(self, raw: Any, source: str, allowed: Collection[str] | None = None,
                 where: str = ""):
        self.source = source
        self.where = where
        # allowed None: any key (check_keys still insists on a table)
        self.raw = check_keys(raw, raw if allowed is None else allowed, source, where)

    def __contains__(self, key: str) -> bool:
        return key in self.raw

    def key(self, key: str) -> str:
        """The dotted key of ``key`` in this table, for messages."""
        return join(self.where, key)

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)

    def table(self, key: str, allowed: Collection[str] | None = None) -> Table:
        """The sub-table ``key`` (an empty one when absent)."""
        return Table(self.raw.get(key, {}), self.source, allowed, self.key(key))

    def int(self, key: str, default: Any = REQUIRED, low: int | None = None,
            high: int | None = None, *, even: bool = False) -> int:
        return check_int(self.raw.get(key, default), self.source, self.key(key), low, high,
                         even=even)

    def optional_int(self, key: str, low: int | None = None, high: int | None = None, *,
                     even: bool = False) -> int | None:
        """``None`` when absent, else as :meth:`int`."""
        if self.raw.get(key) is None:
            return None
        return self.int(key, REQUIRED, low, high, even=even)

    def number(self, key: str, default: Any = REQUIRED, low: float | None = None,
               high: float | None = None, *, low_open: bool = False, high_open: bool = False,
               unit: str = "") -> float:
        return check_number(self.raw.get(key, default), self.source, self.key(key), low, high,
                            low_open=low_open, high_open=high_open, unit=unit)

    def optional_number(self, key: str, low: float | None = None, high: float | None = None, *,
                        low_open: bool = False, high_open: bool = False) -> float | None:
        if self.raw.get(key) is None:
            return None
        return self.number(key, REQUIRED, low, high, low_open=low_open, high_open=high_open)

    def bool(self, key: str, default: Any = REQUIRED) -> bool:
        return check_bool(self.raw.get(key, default), self.source, self.key(key))

    def str(self, key: str, default: Any = REQUIRED, what: str = "a non-empty string") -> str:
        return check_str(self.raw.get(key, default), self.source, self.key(key), what)

    def optional_str(self, key: str, what: str = "a non-empty string") -> str | None:
        if self.raw.get(key) is None:
            return None
        return self.str(key, REQUIRED, what)

    def text(self, key: str, default: str = "") -> str:
        """Free text (a description): any string, stripped."""
        value = self.raw.get(key, default)
        if not isinstance(value, str):
            raise InputError(f"must be a string, got {_got(value)}", source=self.source,
                             key=self.key(key))
        return value.strip()

    def choice(self, key: str, choices: Iterable[str], default: Any = REQUIRED,
               what: str = "value") -> str:
        return check_choice(self.raw.get(key, default), choices, self.source, self.key(key),
                            what)

    def name(self, key: str = "name", default: Any = REQUIRED,
             names: str = "folders and run ids") -> str:
        return check_name(self.raw.get(key, default), self.source, self.key(key), names)

    def str_list(self, key: str, what: str, default: Any = REQUIRED, **kw: Any) -> list[str]:
        return check_str_list(self.raw.get(key, default), self.source, self.key(key), what, **kw)

    def error(self, key: str | None, message: str) -> InputError:
        """An :class:`InputError` about ``key`` of this table (``None``: the table itself)."""
        return InputError(message, source=self.source,
                          key=self.key(key) if key is not None else (self.where or None))


# --- writing ------------------------------------------------------------------------------------
def toml_value(v: Any) -> str:
    """One value as TOML: booleans, numbers, strings, arrays and inline tables (None entries of a
    table are left out)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a valid TOML basic string
    if isinstance(v, list | tuple):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items() if x is not None) + " }"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def toml_key(k: str) -> str:
    """A key as TOML: bare when it can be, else quoted."""
    return k if k.replace("_", "").replace("-", "").isalnum() else json.dumps(k)
