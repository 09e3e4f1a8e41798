"""Programme budgets (issue 17, item 2): a package's budget in real euros, total or per year, for a
region or for all, shared among its levers by fixed shares or a priority order."""

from __future__ import annotations

import numpy as np
import pytest

from cluster_abm.errors import InputError
from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.specs.scenario import load_scenario, scenario_from_dict

NER = "north_east_romania"
SMALL = {"sim.n_firms": 1200, "sim.spinup_years": 3}


def _write(tmp_path, name: str, body: str):
    path = tmp_path / f"{name}.toml"
    path.write_text('extends = "baseline"\n' + body)
    return path


INCUBATORS = f"""
[programme]
budget_keur = 6000
years = 3
regions = ["{NER}"]
shares = {{ codification_support = 0.5, new_venture_finance = 0.5 }}
[levers.codification_support]
[levers.new_venture_finance]
"""

NETWORKS = f"""
[programme]
budget_keur_per_year = 2000
years = 3
regions = ["{NER}"]
split = "priority"
priority = ["cooperation_support", "managerial_training"]
[levers.cooperation_support]
[levers.managerial_training]
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("programmes")
    out = {}
    for name, body in (("incubators", INCUBATORS), ("networks", NETWORKS)):
        m = ClusterModel(load_scenario(_write(tmp, name, body)), seed=5, params=SMALL).run(4)
        out[name] = m.policy.budget_table()
    return out


def test_a_package_never_spends_more_than_its_budget_and_only_in_its_years_and_region(runs):
    for name, table in runs.items():
        spent_by_year = table.groupby("year")["spent_keur"].sum()
        assert spent_by_year.loc[[0, 1, 2]].le(2000.0 + 1e-6).all(), name
        assert spent_by_year.loc[3] == 0.0, name  # the programme ran years 0-2
        assert table[table["region"] != NER]["spent_keur"].sum() == 0.0, name
        assert table["spent_keur"].sum() <= 6000.0 + 1e-6, name


def test_two_packages_with_equal_budgets_spend_within_ten_percent(runs):
    a, b = (runs[k]["spent_keur"].sum() for k in ("incubators", "networks"))
    assert a > 0 and b > 0
    assert abs(a - b) <= 0.1 * max(a, b), (a, b)


def test_shares_split_the_money_and_priority_serves_the_first_lever_first(runs):
    inc = runs["incubators"]
    year0 = inc[(inc["year"] == 0) & (inc["region"] == NER)].set_index("lever")
    assert year0.loc["codification_support", "planned_keur"] == pytest.approx(1000.0)
    assert year0.loc["new_venture_finance", "planned_keur"] == pytest.approx(1000.0)
    net = runs["networks"]
    first = net[(net["lever"] == "cooperation_support") & (net["region"] == NER) & (net["year"] < 3)]
    assert first["committed_keur"].tolist() == pytest.approx([2000.0] * 3)  # it asks for more


def test_money_that_cannot_be_absorbed_is_reported_with_its_reason(tmp_path):
    """A programme far larger than what the eligible firms ask for leaves money unspent, and the
    budget table says so and why (here: no cluster of North-East Romania is large enough for an
    incubator in this small world)."""
    body = f"""
[programme]
budget_keur_per_year = 5000000
years = 2
regions = ["{NER}"]
shares = {{ incubators = 1.0 }}
[levers.incubators]
"""
    m = ClusterModel(load_scenario(_write(tmp_path, "huge", body)), seed=5, params=SMALL).run(2)
    t = m.policy.budget_table()
    row = t[(t["region"] == NER) & (t["year"] == 0)].iloc[0]
    assert row["not_absorbed_keur"] > 0.9 * 5000000
    assert row["asked_keur"] < row["committed_keur"]
    assert row["why"].startswith("too few eligible requests")


def test_the_priority_order_passes_on_what_the_first_lever_did_not_ask_for(tmp_path):
    """Incubators ask for far less than 5 bn€: from the second year the rest goes to the next lever."""
    body = f"""
[programme]
budget_keur_per_year = 5000000
years = 3
regions = ["{NER}"]
split = "priority"
priority = ["incubators", "cooperation_support"]
[levers.incubators]
[levers.cooperation_support]
"""
    m = ClusterModel(load_scenario(_write(tmp_path, "prio", body)), seed=5, params=SMALL).run(3)
    t = m.policy.budget_table()
    t = t[t["region"] == NER].set_index(["year", "lever"])
    assert t.loc[(0, "cooperation_support"), "committed_keur"] == 0.0
    assert t.loc[(1, "cooperation_support"), "committed_keur"] > 0.9 * 5000000
    assert t.loc[(1, "incubators"), "committed_keur"] == pytest.approx(t.loc[(0, "incubators"), "asked_keur"])
    assert t.loc[(1, "cooperation_support"), "spent_keur"] > 0


def test_a_programme_round_trips_through_to_dict(tmp_path):
    sc = load_scenario(_write(tmp_path, "rt", INCUBATORS))
    raw = sc.to_dict()
    raw.pop("extends_chain")
    again = scenario_from_dict(raw, source="rt")
    assert again.programme == sc.programme


@pytest.mark.parametrize("body, key, words", [
    ("budget_keur = -5\nyears = 2\nshares = { incubators = 1.0 }", "programme.budget_keur", "out of range"),
    ("budget_keur = 100\nshares = { incubators = 1.0 }", "programme.years", "needs the programme's years"),
    ("budget_keur_per_year = 100\nyears = 0\nshares = { incubators = 1.0 }", "programme.years", "whole years"),
    ("budget_keur_per_year = 100\nshares = { incubators = 0.6 }", "programme.shares", "sum to 0.6"),
    ("budget_keur_per_year = 100\nshares = { incubatorz = 1.0 }", "programme.shares", "did you mean 'incubators'"),
    ("budget_keur_per_year = 100\nbudget_keur = 5\nyears = 1\nshares = { incubators = 1.0 }", "programme", "exactly one"),
    ("budget_keur_per_year = 100\nsplit = \"priority\"\npriority = [\"incubators\", \"incubators\"]", "programme.priority", "twice"),
    ("budget_keur_per_year = 100\nsplit = \"lottery\"", "programme.split", "allowed: shares, priority"),
    ("budget_keur_per_year = 100\nregions = [\"atlantis\"]\nshares = { incubators = 1.0 }", "programme.regions", "names no region"),
    ("budget_keur_per_year = 100\nshare = { incubators = 1.0 }", "programme.share", "did you mean 'shares'"),
])
def test_bad_programmes_get_one_line_naming_file_and_key(tmp_path, body, key, words):
    path = _write(tmp_path, "bad", f"[programme]\n{body}\n[levers.incubators]\n")
    with pytest.raises(InputError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg and f": {key}:" in msg and words in msg, msg


def test_without_a_programme_each_lever_keeps_its_own_budget():
    sc = load_scenario("baseline").with_levers({})
    m = ClusterModel(sc, seed=1, params=SMALL)
    assert m.policy.programme is None
    assert np.all(m.policy.budget_table()["spent_keur"] == 0) if len(m.policy.budget_table()) else True
