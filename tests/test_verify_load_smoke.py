"""bench/verify_load.py still drives the real app: one official in Chromium against one app on the PostgreSQL
server named by WORKBENCH_TEST_PG (a scratch database: the bench drops its schema, as the PG tests do)
approves one record, measured, without a confirmation; then the server-side profile runs two cycles.
Skips without PostgreSQL or Chromium. The load numbers themselves come from running the bench, not from here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import bench.verify_load as verify_load
from tests.backends import PG_URL
from tests.browser_harness import chromium_path

pytestmark = [pytest.mark.postgres, pytest.mark.browser]


def test_one_official_approves_one_record_measured(tmp_path: Path) -> None:
    if not PG_URL:
        pytest.skip("needs WORKBENCH_TEST_PG (bash .ci/postgres.sh)")
    if chromium_path() is None:
        pytest.skip("needs Debian chromium")
    out = tmp_path / "load.json"
    code = verify_load.main(["--db", PG_URL, "--data", str(tmp_path / "data"), "--officials", "1", "--records", "1",
                             "--warmup", "0", "--think", "0", "--timeout", "40", "--json", str(out)])
    [result] = json.loads(out.read_text())
    assert code == 0 and result["errors"] == []
    assert result["approvals"] == 1 and result["dialogs"] == 0  # every field visited: no confirmation asked
    assert 0 < result["p50_s"] < 40 and not math.isnan(result["p95_s"])
    medians = verify_load.profile_services(PG_URL, tmp_path / "data", cycles=2, top=0)
    assert medians["= cycle total"] > 0 and "db:save_record(approve)" in medians
