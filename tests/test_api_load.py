"""The API load test in CI: 16 sessions through gradio_client at once against `codegen-ui serve`.

Every turn must finish, no call may fail, and the server's log must hold no traceback. The
figures themselves depend on the machine and are not asserted; `codegen-ui bench --api-load`
prints them (see the README).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codegen_ui.bench import LoadPlan, load_table, run_load
from codegen_ui.cli.main import main
from tests.browserkit import serve

pytestmark = [
    pytest.mark.slow,
    # Seen once when run after tests/test_api.py: a directory iterator left open by code outside
    # this project (it is no call of ours) is collected during this test. Only that is ignored.
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <posix.ScandirIterator"
        ":pytest.PytestUnraisableExceptionWarning"
    ),
]

SESSIONS = 16


def test_sixteen_sessions_at_once_all_finish_without_a_traceback(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    for server in serve(tiny_model_dir, tmp_path):
        result = run_load(LoadPlan(server.url, SESSIONS, turns=3, server_pid=server.proc.pid))
        print(load_table(result))
        assert result.errors == ()
        assert len(result.latencies) == SESSIONS * 3
        assert sum(result.statuses.values()) == SESSIONS * 3
        assert result.server_rss_mib is not None and result.server_rss_mib > 0
        assert server.kernels() == 0  # every session was closed: its kernel went back
        # The command line's way in, with two sessions: its exit status says no errors.
        assert main(["bench", "--api-load", "2", "--api-turns", "1", "--url", server.url]) == 0
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log, log[-3000:]


def test_api_load_needs_a_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--api-load", "4"]) == 2
    assert "--api-load needs --url" in capsys.readouterr().err
