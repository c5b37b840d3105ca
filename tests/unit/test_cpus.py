"""--jobs auto counts the CPUs a container's quota allows, not the host's."""

from __future__ import annotations

from pathlib import Path

from sohs_cli.foundation import cpus


def test_cgroup_v2_quota(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert cpus.quota(tmp_path) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cpus.quota(tmp_path) is None


def test_cgroup_v1_quota(tmp_path: Path) -> None:
    (tmp_path / "cpu,cpuacct").mkdir()
    (tmp_path / "cpu,cpuacct" / "cpu.cfs_quota_us").write_text("200000\n")
    (tmp_path / "cpu,cpuacct" / "cpu.cfs_period_us").write_text("100000\n")
    assert cpus.quota(tmp_path) == 2.0
    (tmp_path / "cpu,cpuacct" / "cpu.cfs_quota_us").write_text("-1\n")
    assert cpus.quota(tmp_path) is None


def test_no_cgroup_or_garbage_means_no_quota(tmp_path: Path) -> None:
    assert cpus.quota(tmp_path) is None
    (tmp_path / "cpu.max").write_text("nonsense")
    assert cpus.quota(tmp_path) is None


def test_usable_is_capped_by_the_quota_and_never_below_one(tmp_path: Path) -> None:
    unlimited = cpus.usable(tmp_path)
    assert unlimited >= 1
    (tmp_path / "cpu.max").write_text("50000 100000\n")  # half a CPU
    assert cpus.usable(tmp_path) == 1
    (tmp_path / "cpu.max").write_text(f"{100000 * (unlimited + 4)} 100000\n")  # more than the machine
    assert cpus.usable(tmp_path) == unlimited
