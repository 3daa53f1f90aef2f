"""The segment lifecycle end to end: repeated `dbt build`s on one DuckDB file, each fitting
again (var refit always: what is tested here is how retrains keep ids, names and the
membership history; test_train_once covers builds that score with the latest fit).

Build 1 reads the bundled sample, build 2 the same sample with 5% of customers removed and 5%
new ones added, build 3 the changed data again, build 4 is a `--full-refresh` on the sample.
The project runs from a temporary copy whose name-override seed renames one segment.

The data tests run in builds 3 and 4 only: build 3 reads the same rows as build 2 with a longer
run history and one more snapshot, build 4 the same rows as build 1 (and its snapshot keeps the
history), so what they would check in builds 1 and 2, builds 3 and 4 check.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import REPO, changed_tables, query, run_dbt, sample_tables

OVERRIDE_NAME = "Bargain hunters"
RENAMED_SEGMENT = 2


def write_inputs(directory: Path, tables: dict[str, pd.DataFrame]) -> Path:
    directory.mkdir(parents=True)
    for name, table in tables.items():
        table.to_csv(directory / f"{name}.csv", index=False)
    return directory


def invocation_id(workdir: Path) -> str:
    return json.loads((workdir / "target" / "run_results.json").read_text())["metadata"][
        "invocation_id"]


ASSIGNMENTS = ("select customer_id, segment_id, distance_to_centroid, margin_to_second "
               "from dim_customer_segments order by customer_id")


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("lifecycle")
    project = tmp / "project"
    shutil.copytree(REPO, project, ignore=shutil.ignore_patterns(
        ".git", ".venv", "target", "logs", "*.duckdb", "reports", "__pycache__"))
    (project / "seeds" / "reference" / "segment_name_overrides.csv").write_text(
        "segment_id,segment_name,segment_description\n"
        f"{RENAMED_SEGMENT},{OVERRIDE_NAME},\n")
    workdir = tmp / "work"
    original = write_inputs(tmp / "original", sample_tables())
    tables, removed, added = changed_tables(tmp)
    changed = write_inputs(tmp / "changed", tables)
    state: dict = {"workdir": workdir, "removed": removed, "added": added, "builds": []}
    no_data_tests = ["--exclude-resource-type", "test"]
    for raw_dir, flags in ((original, no_data_tests), (changed, no_data_tests), (changed, []),
                           (original, ["--full-refresh"])):
        run_dbt(["build", *flags], workdir, {"raw_data_dir": str(raw_dir), "refit": "always"},
                project_dir=project)
        state["builds"].append({
            "invocation_id": invocation_id(workdir),
            "assignments": pd.DataFrame(query(workdir, ASSIGNMENTS), columns=[
                "customer_id", "segment_id", "distance", "margin"]),
            "centroids": pd.DataFrame(query(
                workdir, "select segment_id, feature, centroid_value from segment_centroids"),
                columns=["segment_id", "feature", "value"]).pivot(
                index="segment_id", columns="feature", values="value"),
            "runs": pd.DataFrame(query(workdir, "select run_number, run_id, chosen_k, "
                                       "feature_fingerprint, segments_matched, segments_new, "
                                       "segments_retired, max_centroid_drift from segment_runs "
                                       "order by run_number"),
                                 columns=["run_number", "run_id", "chosen_k", "fingerprint",
                                          "matched", "new", "retired", "max_drift"]),
            "transitions": pd.DataFrame(query(
                workdir, "select from_snapshot_at, to_snapshot_at, from_segment_id, "
                         "to_segment_id, transition, customers from segment_transitions"),
                columns=["from_at", "to_at", "from_id", "to_id", "transition", "customers"]),
            "names": dict(query(workdir, "select segment_id, segment_name from dim_segments")),
            "generated": dict(query(
                workdir, "select segment_id, generated_name from dim_segments")),
        })
    return state


def test_every_build_appends_a_run_with_its_dbt_invocation_id(lifecycle):
    first, second, third, refreshed = lifecycle["builds"]
    runs = third["runs"]
    assert runs["run_number"].tolist() == [1, 2, 3]
    assert runs["run_id"].tolist() == [b["invocation_id"] for b in (first, second, third)]
    fingerprints = runs["fingerprint"].tolist()
    assert fingerprints[1] == fingerprints[2] != fingerprints[0]
    # A full refresh starts the history again, as run 1 of the original data.
    assert refreshed["runs"]["run_number"].tolist() == [1]
    assert refreshed["runs"]["fingerprint"].tolist() == [fingerprints[0]]


def test_ids_stay_on_their_segments_when_five_percent_of_customers_change(lifecycle):
    first, second = lifecycle["builds"][:2]
    run = second["runs"].iloc[1]
    print(second["runs"].drop(columns=["run_id", "fingerprint"]).to_string())
    k = int(run["chosen_k"])
    assert k == int(first["runs"].iloc[0]["chosen_k"])
    assert (run["matched"], run["new"], run["retired"]) == (k, 0, 0)
    assert run["max_drift"] < 0.25
    # Every id's new centroid (original units, standardised by the first fit's spread) is
    # nearest to the same id's old centroid.
    before, after = first["centroids"], second["centroids"]
    spread = before.std()
    distances = np.linalg.norm(((after.to_numpy()[:, None, :] - before.to_numpy()[None, :, :])
                                / spread.to_numpy()), axis=2)
    assert before.index[distances.argmin(axis=1)].tolist() == after.index.tolist()
    # Customers in both builds keep their segment.
    both = first["assignments"].merge(second["assignments"], on="customer_id")
    kept = (both["segment_id_x"] == both["segment_id_y"]).mean()
    print(f"customers keeping their segment after a 5% change: {kept:.3f}")
    assert kept > 0.95


def test_a_rebuild_on_the_same_data_reproduces_ids_and_assignments(lifecycle):
    first, second, third, refreshed = lifecycle["builds"]
    pd.testing.assert_frame_equal(second["assignments"], third["assignments"])
    assert third["runs"].iloc[2]["max_drift"] < 1e-9
    pd.testing.assert_frame_equal(first["assignments"], refreshed["assignments"])


def test_transitions_count_who_stayed_moved_came_and_left(lifecycle):
    first, second = lifecycle["builds"][:2]
    transitions = second["transitions"]
    pair = transitions[transitions["from_at"].notna()]
    assert pair["to_at"].nunique() == 1
    totals = pair.groupby("transition")["customers"].sum().to_dict()
    both = first["assignments"].merge(second["assignments"], on="customer_id")
    moved = int((both["segment_id_x"] != both["segment_id_y"]).sum())
    accepted_removed = len(set(first["assignments"]["customer_id"]) & lifecycle["removed"])
    accepted_added = len(set(second["assignments"]["customer_id"]) & lifecycle["added"])
    assert totals == {"stayed": len(both) - moved, "new": accepted_added,
                      "left": accepted_removed, **({"moved": moved} if moved else {})}
    assert accepted_removed > 100 and accepted_added > 100
    moves = pair[pair["transition"] == "moved"]
    assert (moves["from_id"] != moves["to_id"]).all()


def test_generated_names_survive_retrains_that_keep_the_traits(lifecycle):
    first, second, third, _ = lifecycle["builds"]
    # A 5% change moves centroids by a few hundredths of an SD: traits (and their order)
    # may shift a little, but each segment keeps the name the first fit gave it.
    assert second["generated"] == first["generated"] == third["generated"]
    workdir = lifecycle["workdir"]
    runs = query(workdir, "select distinct run_type, reason from segment_runs")
    assert runs == [("fit", "no previous fit")]  # after the full refresh


def test_a_name_override_survives_retrains(lifecycle):
    for build in lifecycle["builds"]:
        assert build["names"][RENAMED_SEGMENT] == OVERRIDE_NAME
        assert len(set(build["names"].values())) == len(build["names"])
    workdir = lifecycle["workdir"]
    assert query(workdir, "select distinct segment_name from dim_customer_segments "
                          f"where segment_id = {RENAMED_SEGMENT}") == [(OVERRIDE_NAME,)]
    assert query(workdir, "select name_source, generated_name != segment_name from dim_segments "
                          f"where segment_id = {RENAMED_SEGMENT}") == [("override", True)]
