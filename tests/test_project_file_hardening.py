"""Issue 12, items 10 to 15: project files under hostile paths, damage and full disks.

Every case: one line for the user, the right exit code, and nothing on disk changed that the
user did not ask to change. The full and read-only disks are real tmpfs mounts (root only;
CI runs as root).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditapp.cli.main import main
from auditapp.core import project_io
from auditapp.core.model import Finding, Run, Severity, Status
from auditapp.core.project import Project, ProjectError
from auditapp.core.project_io import load_project, save_project
from auditapp.core.review_layer import Review
from auditapp.postfix import PostfixConfigError, load_postfix_config, read_texts


def _project(runs: int = 0, name: str = "Kunde") -> Project:
    findings = [Finding("SPF-MISSING", Status.FAIL, Severity.HIGH, "kunde.example", "missing", {}, ("no SPF",))]
    return Project(name=name, domain="kunde.example", runs=[
        Run(f"run{i}", f"2026-01-{i + 1:02d}T00:00:00+00:00", f"2026-01-{i + 1:02d}T00:01:00+00:00", "0.1.0", "c",
            "r", {"domain": "kunde.example"}, list(findings)) for i in range(runs)])


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


# -- item 13: only regular files are read ---------------------------------------------------------

def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "p.auditproj"
    os.mkfifo(fifo)
    with pytest.raises(ProjectError, match="pipe"):
        load_project(fifo)  # before the fix this blocked forever: no writer ever opens the pipe
    assert main(["report", "--project", str(fifo), "--pdf", str(tmp_path / "r.pdf")]) == 2
    assert "pipe" in _one_line(capsys)
    assert main(["audit", "--project", str(fifo), "--no-services"]) == 2
    assert "pipe" in _one_line(capsys)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_devices_are_refused(device: str) -> None:
    with pytest.raises(ProjectError, match="device"):
        load_project(device)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="directory"):
        load_project(tmp_path)


# -- item 15: messages -------------------------------------------------------------------------------

def test_a_file_cut_inside_a_string_ends_too_early(tmp_path: Path) -> None:
    path = tmp_path / "p.auditproj"
    save_project(_project(runs=1), path)
    text = path.read_text("utf-8")
    path.write_text(text[: text.index("no SPF") + 3], "utf-8")
    with pytest.raises(ProjectError, match="ends too early") as err:
        load_project(path)
    assert "column" not in str(err.value)


def test_an_absurd_schema_version_is_damage_not_a_python_hint(tmp_path: Path) -> None:
    path = tmp_path / "p.auditproj"
    path.write_text('{"format": "auditapp.project", "schema_version": ' + "9" * 5000 + ', "project": {}}', "utf-8")
    with pytest.raises(ProjectError) as err:
        load_project(path)
    message = str(err.value)
    assert "damaged" in message and "set_int_max_str_digits" not in message and len(message) < 300


def test_a_json_array_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "p.auditproj"
    path.write_text("[" + "1," * 100_000 + "1]", "utf-8")
    with pytest.raises(ProjectError, match="not an object"):
        load_project(path)


# -- item 10: symbolic links --------------------------------------------------------------------------

def test_save_does_not_follow_a_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "important.txt"
    victim.write_text("do not overwrite\n", "utf-8")
    link = tmp_path / "Kunde.auditproj"
    link.symlink_to(victim)
    with pytest.raises(ProjectError, match="symbolic link"):
        save_project(_project(), link)
    assert victim.read_text("utf-8") == "do not overwrite\n" and link.is_symlink()


def test_a_symlinked_main_cf_leaving_the_folder_is_not_imported(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    secret = tmp_path / "id_ed25519"
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n", "utf-8")
    folder = tmp_path / "postfix"
    folder.mkdir()
    (folder / "main.cf").symlink_to(secret)
    (folder / "master.cf").write_text("smtp inet n - y - - smtpd\n", "utf-8")
    for load in (load_postfix_config, read_texts):
        with pytest.raises(PostfixConfigError, match="outside"):
            load(folder)
    assert main(["audit", "kunde.example", "--postfix-config", str(folder), "--no-services",
                 "--nameserver", "127.0.0.1:9"]) == 2
    assert "outside" in _one_line(capsys)


def test_a_symlink_inside_the_folder_is_fine(tmp_path: Path) -> None:
    folder = tmp_path / "postfix"
    folder.mkdir()
    (folder / "main.cf.real").write_text("myhostname = mx.kunde.example\n", "utf-8")
    (folder / "main.cf").symlink_to(folder / "main.cf.real")
    assert "myhostname" in read_texts(folder)["main.cf"]


# -- item 14: modes and leftovers ----------------------------------------------------------------------

def test_saving_keeps_the_file_mode_and_new_files_are_private(tmp_path: Path) -> None:
    shared = tmp_path / "shared.auditproj"
    save_project(_project(), shared)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o600
    shared.chmod(0o664)
    save_project(_project(name="Again"), shared)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o664 and load_project(shared).name == "Again"


def test_temp_files_of_a_killed_save_are_removed_by_the_next_save(tmp_path: Path) -> None:
    path = tmp_path / "p.auditproj"
    stale = tmp_path / ".p.auditproj.abc123.tmp"
    fresh = tmp_path / ".p.auditproj.def456.tmp"
    other = tmp_path / ".other.auditproj.ghi789.tmp"
    for f in (stale, fresh, other):
        f.write_text("{", "utf-8")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    save_project(_project(), path)
    assert not stale.exists()
    assert fresh.exists()  # perhaps another process's save in progress
    assert other.exists()  # another project's business


# -- item 11: one size rule, and archiving -----------------------------------------------------------

def test_a_project_too_large_to_open_again_is_not_saved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.auditproj"
    save_project(_project(runs=1), path)
    before = path.read_bytes()
    monkeypatch.setattr(project_io, "MAX_FILE_BYTES", len(before) + 100)
    with pytest.raises(ProjectError, match="auditapp archive"):
        save_project(_project(runs=5), path)
    assert path.read_bytes() == before
    load_project(path)  # what was saved can still be opened


def test_archive_moves_old_runs_and_is_harmless_twice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "Kunde.auditproj"
    project = _project(runs=5)
    project.reviews.append(Review("SPF-MISSING", "kunde.example", "comment", "known", "A", "2026-01-01T00:00:00+00:00"))
    save_project(project, path)
    assert main(["archive", "--project", str(path), "--keep", "2"]) == 0
    archive = tmp_path / "Kunde.archive.auditproj"
    kept, archived = load_project(path), load_project(archive)
    assert [r.id for r in kept.runs] == ["run3", "run4"]
    assert [r.id for r in archived.runs] == ["run0", "run1", "run2"]
    assert archived.reviews == project.reviews and archived.domain == project.domain
    assert "3 runs moved" in capsys.readouterr().out
    assert main(["archive", "--project", str(path), "--keep", "2"]) == 0
    assert "nothing to archive" in capsys.readouterr().out
    assert main(["archive", "--project", str(path), "--keep", "1"]) == 0
    assert [r.id for r in load_project(archive).runs] == ["run0", "run1", "run2", "run3"]
    assert main(["archive", "--project", str(path), "--keep", "0"]) == 2
    assert main(["report", "--project", str(archive), "--pdf", str(tmp_path / "old.pdf"), "--run", "1"]) == 0


# -- item 14: full and read-only disks ----------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(directory: Path) -> None:
    with (directory / "filler").open("wb", buffering=0) as fh:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    fh.write(b"\0" * size)
            except OSError:
                continue


@pytest.mark.parametrize("command", [
    ["accept", "SPF-MISSING", "kunde.example", "--reason", "known", "--by", "A"],
    ["review", "SPF-MISSING", "kunde.example", "--by", "A", "--comment", "seen"],
])
def test_a_full_disk_is_one_line_and_exit_3(small_disk: Path, capsys: pytest.CaptureFixture[str],
                                            command: list[str]) -> None:
    path = small_disk / "p.auditproj"
    save_project(_project(runs=1), path)
    before = path.read_bytes()
    _fill(small_disk)
    assert main([*command, "--project", str(path)]) == 3
    assert "not changed" in _one_line(capsys)
    assert path.read_bytes() == before
    assert not list(small_disk.glob(".p.auditproj.*.tmp"))


def test_a_read_only_disk_is_one_line_and_exit_3(small_disk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = small_disk / "p.auditproj"
    save_project(_project(runs=1), path)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    assert main(["accept", "SPF-MISSING", "kunde.example", "--reason", "known", "--by", "A",
                 "--project", str(path)]) == 3
    assert "read-only" in _one_line(capsys).lower()
    assert json.loads(path.read_text("utf-8"))["project"].get("accepted_risks") is None
