"""The GitHub Actions workflow (issue 17), which cannot run here: it is linted against GitHub's own
workflow schema with check-jsonschema (the schema ships inside that package: no network), its jobs
cover Linux, macOS and Windows, and every command its steps run exists in this repository.

actionlint would also type-check expressions, but its PyPI wrapper downloads the binary at build
time, which an offline machine cannot; check-jsonschema is pure Python."""

from __future__ import annotations

import importlib.util
import os
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

if importlib.util.find_spec("check_jsonschema") is None or importlib.util.find_spec("ruamel") is None:
    # a venv made before these test tools joined the dev group; CI installs them, and fails without
    if os.environ.get("CI"):
        raise ImportError("check-jsonschema and ruamel.yaml are required in CI (the test dependency group)")
    pytest.skip("check-jsonschema is not installed: pip install -e . --group dev", allow_module_level=True)

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
#: the actions the workflow may use, at the major version it was written for
ACTIONS = {"actions/checkout@v4", "actions/setup-python@v5"}
#: programs a step may run that are not ours: the runner's shell builtins and package managers
RUNNER_TOOLS = {"brew", "true"}


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with GitHub's workflow schema and its every-job-has-a-timeout rule."""
    results = []
    for schema in ("vendor.github-workflows", "custom.github-workflows-require-timeout"):
        results.append(subprocess.run(
            [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
            capture_output=True, text=True, timeout=120))
    bad = [r for r in results if r.returncode != 0]
    return bad[0] if bad else results[0]


def workflow() -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(WORKFLOW.read_text(encoding="utf-8"))
    return data


def test_the_workflow_passes_githubs_schema() -> None:
    result = lint(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_linter_rejects_a_broken_workflow(tmp_path: Path) -> None:
    """The lint can fail: a step with both `run` and `uses`, and a job without a timeout."""
    broken = tmp_path / "ci.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - run: echo\n        uses: actions/checkout@v4\n", encoding="utf-8")
    assert lint(broken).returncode != 0


def test_jobs_on_linux_macos_and_windows_with_timeouts() -> None:
    jobs = workflow()["jobs"]
    systems = {str(job["runs-on"]).split("-", 1)[0] for job in jobs.values()}
    assert systems == {"ubuntu", "macos", "windows"}
    for name, job in jobs.items():
        assert 0 < job["timeout-minutes"] <= 30, name  # .ci/run's 20-minute budget, with room to install


def steps() -> list[tuple[str, dict[str, Any]]]:
    return [(name, step) for name, job in workflow()["jobs"].items() for step in job["steps"]]


def test_every_action_is_a_known_one_at_its_major_version() -> None:
    used = {step["uses"] for _, step in steps() if "uses" in step}
    assert used <= ACTIONS, used - ACTIONS


def commands(script: str) -> list[list[str]]:
    """The command lines of a step's script (``a || b`` and ``a && b`` are two)."""
    out = []
    for line in script.splitlines():
        for part in line.replace("&&", "||").split("||"):
            words = shlex.split(part, posix=True)
            if words:
                out.append(words)
    return out


def test_every_step_runs_a_command_that_exists() -> None:
    """``bash .ci/run`` and ``python .ci/lowest`` are files of the repo, ``python -m X`` a module
    installed here, ``--group G`` a dependency group of pyproject.toml."""
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["dependency-groups"]
    seen = 0
    for job, step in steps():
        for words in commands(step.get("run", "")):
            seen += 1
            program = words[0]
            if program in RUNNER_TOOLS:
                continue
            assert program in ("bash", "python"), f"{job}: {words}"
            if words[1] == "-m":
                module = words[2]
                assert module in ("pip", "pytest"), f"{job}: {words}"
                __import__(module)
                if "--group" in words:
                    assert words[words.index("--group") + 1] in groups, f"{job}: {words}"
                if "-e" in words:
                    assert words[words.index("-e") + 1] == "." and (ROOT / "pyproject.toml").is_file()
            else:
                assert (ROOT / words[1]).is_file(), f"{job}: {words[1]} is not a file of the repository"
    assert seen >= 6


@pytest.mark.parametrize("script", [".ci/run", ".ci/lowest"])
def test_the_ci_scripts_the_workflow_runs_are_executable_text(script: str) -> None:
    text = (ROOT / script).read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env "), script
