"""What the workshop app hands out: the set-up as a scenario file, the data as CSV.

:func:`setup_toml` writes what is on screen as a scenario file that ``cluster-abm scenario check``
accepts: it ``extends`` the scenario the app started from and adds the horizon, the parameter
changes and the levers (a lever the base switches on and the user switched off is written as
``false``), so the file stays short and reads like the project's own packages. Levers switched
while the runs went on keep their years (``start_year``, ``end_year``); a scenario file says
whole policy years and one period per lever, so the comments list what the app did, quarter by
quarter, when that is more than the file can say. The charts and
the map are exported as PNG by :class:`~cluster_abm.ui.app_state.AppState`.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from cluster_abm.policy import levers as policies
from cluster_abm.specs.scenario import Scenario, find_scenario
from cluster_abm.specs.toml_spec import toml_value


def extends_ref(base: Scenario) -> str:
    """How a saved file names its base: by name when that name finds the same file from
    anywhere (the project's scenarios), else by absolute path."""
    source = Path(base.source)
    try:
        if find_scenario(source.stem) == source.resolve():
            return source.stem
    except Exception:  # noqa: BLE001 - any failure: fall back to the path
        pass
    return str(source.resolve())


def setup_toml(base: Scenario, policy: Scenario, params: dict[str, Any], horizon_years: float,
               title: str | None = None, history: list[str] | None = None) -> str:
    """The app's set-up as a scenario file (TOML text).

    Args:
        base: the scenario file the set-up starts from.
        policy: the policy scenario as run (its levers are written, with their years).
        params: the parameter overrides the app applied on top of ``base``.
        horizon_years: the run length shown.
        history: the levers switched in the app, in words ("year 5¼: Incubators on"), written
            as comments.
    """
    today = _dt.date.today().isoformat()
    lines = [
        f"# Saved from the workshop app (cluster-abm ui) on {today}.",
        f"# Starts from {base.title or base.name} and adds the horizon, parameters and levers below.",
        *(["# Levers switched during the run in the app (a file says whole years, one period "
           "per lever):"] + [f"#   {h}" for h in history] if history else []),
        f"extends = {toml_value(extends_ref(base))}",
        f"title = {toml_value(title or (base.title or base.name) + ' (workshop set-up)')}",
        "",
        "[simulation]",
        f"years = {toml_value(float(horizon_years))}",
    ]
    sim = {k[4:]: v for k, v in params.items() if k.startswith("sim.") and k != "sim.years"}
    lines += [f"{k} = {toml_value(v)}" for k, v in sorted(sim.items())]
    other = {k: v for k, v in params.items() if not k.startswith("sim.")}
    if other:
        lines += ["", "[params]"] + [f"{k} = {toml_value(v)}" for k, v in sorted(other.items())]
    off = [lid for lid in base.levers if lid not in policy.levers]
    if off:
        lines += ["", "[levers]"] + [f"{lid} = false" for lid in off]
    for lid, s in policy.levers.items():
        lines += ["", f"[levers.{lid}]", f"intensity = {toml_value(float(s.intensity))}"]
        if s.regions is not None:
            lines.append(f"regions = {toml_value(list(s.regions))}")
        if s.clusters is not None:
            lines.append(f"clusters = {toml_value(list(s.clusters))}")
        lever = policies.BY_ID.get(lid)
        if lever is not None and "firms" in lever.targets:
            lines.append(f"firms = {toml_value(s.firms)}")
        if s.start_year:
            lines.append(f"start_year = {toml_value(int(s.start_year))}")
        if s.end_year is not None:
            lines.append(f"end_year = {toml_value(int(s.end_year))}")
    return "\n".join(lines) + "\n"
