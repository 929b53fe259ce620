"""The sandbox that runs model-written programs: outcomes by exit status, and hostile programs
contained (each hostile case is a program a model could write)."""

import os
import stat
import tempfile
import time
from pathlib import Path

import pytest

from dapo.sandbox import FAILED, OUTPUT_LIMIT, PASSED, TIMEOUT, Limits, isolated, run_python

needs_isolation = pytest.mark.skipif(not isolated(), reason="bubblewrap cannot create namespaces here")
FAST = Limits(timeout_s=5.0, cpu_s=5)
CHILD = "dapo-sandbox-fork-child"  # in each child's command line, to find any that outlive the run
FORK_BOMB = ("import os, sys\nn = 0\ntry:\n    while True:\n        if os.fork() == 0:\n"
             f"            os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(20)  # {CHILD}'])\n"
             "        n += 1\nexcept OSError:\n    print('forks', n)\n    raise SystemExit(7)\n")


def test_exit_status_decides_the_outcome():
    assert run_python("print('hi')").status == PASSED
    outcome = run_python("assert 1 + 1 == 3")
    assert outcome.status == FAILED and outcome.returncode == 1 and "AssertionError" in outcome.output
    assert run_python("raise SystemExit(3)").returncode == 3


def test_an_infinite_loop_is_stopped():
    outcome = run_python("while True:\n    pass\n", FAST)
    assert outcome.status in (TIMEOUT, FAILED) and not outcome.passed  # the wall clock or the CPU limit
    assert outcome.seconds < FAST.timeout_s + 5


def test_a_sleeping_program_is_killed_at_the_wall_clock_limit():
    outcome = run_python("import time\ntime.sleep(60)\n", Limits(timeout_s=2.0))
    assert outcome.status == TIMEOUT and 2.0 <= outcome.seconds < 10


def test_a_fork_bomb_hits_the_process_limit_and_leaves_nothing_behind():
    program = FORK_BOMB
    outcome = run_python(program, Limits(timeout_s=10.0, processes=32))
    assert outcome.returncode == 7 and int(outcome.output.split()[-1]) < 32
    # the sleeping children died with the sandbox (its pid namespace, or its process group)
    assert not _survivors()


def _survivors(grace_s: float = 2.0) -> list[Path]:
    """Fork-bomb children still alive after `grace_s` (a killed process leaves /proc a moment later)."""
    deadline = time.monotonic() + grace_s
    while True:
        left = [p for p in Path("/proc").iterdir() if p.name.isdigit() and CHILD in _cmdline(p)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def _cmdline(p: Path) -> str:
    try:
        return (p / "cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def test_a_memory_bomb_fails_inside_its_limit():
    outcome = run_python("x = bytearray(8 << 30)\n", Limits(memory_mb=512))
    assert outcome.status == FAILED and "MemoryError" in outcome.output


def test_printing_gigabytes_is_cut_at_the_output_cap():
    outcome = run_python("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n", Limits(output_bytes=1 << 20))
    assert outcome.status == OUTPUT_LIMIT and outcome.seconds < 10 and len(outcome.output) <= 2000


def test_a_large_file_is_cut_at_the_file_size_limit():
    outcome = run_python("open('big', 'wb').write(b'x' * (64 << 20))\n", Limits(file_mb=1))
    assert outcome.status == FAILED


@needs_isolation
def test_files_outside_the_sandbox_cannot_be_deleted_or_written():
    """A directory and file anyone may delete or write, outside the temporary tree the sandbox
    hides: the read-only root keeps them."""
    outside = Path(tempfile.mkdtemp(dir="/var/tmp" if os.access("/var/tmp", os.W_OK) else Path.home()))
    try:
        os.chmod(outside, 0o777)
        victim = outside / "keep.txt"
        victim.write_text("keep")
        os.chmod(victim, stat.S_IRWXU | stat.S_IRWXG | stat.S_IRWXO)
        outcome = run_python(f"import os\nos.remove({str(victim)!r})\n")
        assert outcome.status == FAILED and "Read-only file system" in outcome.output
        outcome = run_python(f"open({str(outside / 'new.txt')!r}, 'w').write('x')\n")
        assert outcome.status == FAILED
        assert victim.read_text() == "keep" and sorted(p.name for p in outside.iterdir()) == ["keep.txt"]
    finally:
        for p in outside.iterdir():
            p.unlink()
        outside.rmdir()


@needs_isolation
def test_no_network():
    program = ("import socket\ns = socket.socket()\ns.settimeout(3)\n"
               "s.connect(('1.1.1.1', 80))\n")
    outcome = run_python(program, FAST)
    assert outcome.status == FAILED and "unreachable" in outcome.output.lower()
    # not even the loopback of the host: a server there is out of reach
    outcome = run_python("import socket\nsocket.create_connection(('127.0.0.1', 22), timeout=3)\n", FAST)
    assert outcome.status == FAILED


def test_the_program_runs_in_a_fresh_directory_each_time():
    first = run_python("open('state.txt', 'w').write('x')\n")
    second = run_python("import os\nassert not os.path.exists('state.txt'), os.listdir('.')\n")
    assert first.passed and second.passed


def test_without_bubblewrap_the_limits_still_hold(monkeypatch):
    """The fallback: rlimits, the session and the output cap, with no namespaces."""
    from dapo import sandbox

    monkeypatch.setattr(sandbox, "bwrap", lambda: None)
    assert not sandbox.isolated()
    assert run_python("print('hi')").output == "hi\n"
    assert run_python("import time\ntime.sleep(60)\n", Limits(timeout_s=2.0)).status == TIMEOUT
    assert run_python("x = bytearray(8 << 30)\n", Limits(memory_mb=512)).status == FAILED
    assert run_python("while True:\n    print('x' * 4096)\n", Limits(output_bytes=1 << 16)).status == OUTPUT_LIMIT
    program = FORK_BOMB
    outcome = run_python(program, Limits(timeout_s=10.0, processes=32))
    assert outcome.returncode == 7 and outcome.seconds < 5  # the children holding the pipe do not stall it
    assert not _survivors()


def test_an_unprivileged_user_s_process_limit_counts_the_processes_it_already_has(monkeypatch):
    """Not root: the child keeps this user, whose running processes count against the limit."""
    from dapo import sandbox

    mine = sum(1 for s in Path("/proc").glob("[0-9]*/status")
               if any(line.split()[1] == str(os.getuid()) for line in s.read_text().splitlines()
                      if line.startswith("Uid:")))
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)
    assert mine >= 1 and abs(sandbox._process_limit(64) - (mine + 64)) <= 5  # processes come and go meanwhile


def test_installed_packages_only_when_allowed_and_read_only():
    import numpy

    program = "import numpy as np\nassert np.allclose([0.1 + 0.2], [0.3])\n"
    assert "No module named 'numpy'" in run_python(program).output
    allowed = Limits(site_packages=True)
    assert run_python(program, allowed).passed
    target = Path(numpy.__file__)
    before = target.read_bytes()
    outcome = run_python(f"open({str(target)!r}, 'a').write('# changed')\n", allowed)
    assert outcome.status == FAILED and target.read_bytes() == before
