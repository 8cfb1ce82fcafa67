"""Sandbox launcher: runs inside the sandbox's namespaces, confines and execs the agent's code.

Started by `scaffold.tasks.sandbox` as `python -I -S _sandbox_launcher.py CONFIG_JSON`, usually as
process 1 of fresh pid/net/mount/ipc/uts namespaces (`unshare`). It builds a private root
filesystem (a size-capped tmpfs holding the code, with the system directories and the
interpreter bound read-only), chroots into it, then forks the code's process, which sets its
rlimits, drops privileges and execs Python. The launcher reaps every process until the code's
process exits and writes a JSON verdict to the status descriptor (it is non-dumpable, so the
code cannot reach that descriptor or its stdout through /proc or ptrace); leaving then kills
whatever the code left behind (the pid namespace dies with its process 1; outside one the
launcher is a child subreaper and kills its remaining descendants).

Standard library only: it must not import the engine.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import shutil
import signal
import socket
import sys
from typing import Any

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 32, 1024, 2048, 4096, 16384
MS_PRIVATE, MS_RELATIME = 1 << 18, 1 << 21
PR_SET_DUMPABLE, PR_SET_KEEPCAPS, PR_CAPBSET_DROP, PR_SET_SECUREBITS = 4, 8, 24, 28
PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE = 36, 38, 47, 2
CAP_DAC_READ_SEARCH = 2
SECUREBITS_NOROOT_LOCKED = 0x2F
"""NOROOT, NO_SETUID_FIXUP and KEEP_CAPS locked: exec as (namespace) root grants nothing."""

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
DEVICES = ("null", "zero", "full", "random", "urandom")
NETWORK_FILES = ("/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/ssl")
"""Host files the private root gets only when the code may use the network (DNS, TLS)."""
SANDBOX_DIR = "/sandbox"

SOCKET_GUARD = """
import runpy, socket, sys, _socket
def _blocked(*args, **kwargs):
    raise PermissionError(1, "network access is disabled in this sandbox")
for _mod in (socket, _socket):
    for _name in ("socket", "socketpair", "fromfd", "create_connection", "create_server",
                  "getaddrinfo", "gethostbyname"):
        if hasattr(_mod, _name):
            setattr(_mod, _name, _blocked)
socket.SocketType = _blocked
del _mod, _name
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""
"""Installed in place of a network namespace where none can be had: a Python-level guard."""

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    enc = [None if s is None else s.encode() for s in (source, target, fstype, data)]
    _check(_libc.mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]), f"mount {target}")


def _prctl(option: int, arg: int) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0), f"prctl {option}")


def _locked_flags(path: str) -> int:
    """The mount flags of `path` that a remount must keep (a user namespace locks them)."""
    st, flags = os.statvfs(path).f_flag, 0
    for st_bit, ms_bit in ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV),
                           (os.ST_NOEXEC, MS_NOEXEC), (os.ST_NOATIME, MS_NOATIME),
                           (os.ST_NODIRATIME, MS_NODIRATIME), (os.ST_RELATIME, MS_RELATIME)):
        if st & st_bit:
            flags |= ms_bit
    return flags


def _bind_readonly(source: str, root: str) -> None:
    """Bind `source` at the same path under `root`, read-only."""
    target = root + source
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    _mount(source, target, None, MS_BIND | MS_REC)
    _mount(None, target, None,
           MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | _locked_flags(source))


def _populate_root(root: str, cfg: dict[str, Any], notes: list[str]) -> None:
    """System dirs and the interpreter read-only, a few devices, /proc, /tmp and the code."""
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            os.symlink(os.readlink(path), root + path)
        elif os.path.isdir(path):
            _bind_readonly(path, root)
    for prefix in cfg["prefixes"]:
        if not os.path.exists(root + prefix):
            _bind_readonly(prefix, root)
    for path in NETWORK_FILES if cfg["network"] else ():
        if os.path.exists(path):
            _bind_readonly(path, root)  # mount(2) follows a symlinked source
    os.makedirs(root + "/dev", exist_ok=True)
    for dev in DEVICES:
        if os.path.exists(f"/dev/{dev}"):
            _bind_readonly(f"/dev/{dev}", root)
    for name, fd in (("stdin", 0), ("stdout", 1), ("stderr", 2)):
        os.symlink(f"/proc/self/fd/{fd}", f"{root}/dev/{name}")
    os.symlink("/proc/self/fd", root + "/dev/fd")
    for sticky in ("/tmp", "/dev/shm"):
        os.makedirs(root + sticky)
        os.chmod(root + sticky, 0o1777)
    os.makedirs(root + "/proc")
    try:
        _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError as exc:  # a masked host /proc forbids this in a user namespace
        notes.append(f"no /proc ({exc})")
    shutil.copytree(cfg["workdir"], root + SANDBOX_DIR)


def _enter_private_root(cfg: dict[str, Any], protections: list[str], notes: list[str]) -> str:
    """Build the private root under the work directory and chroot into it; returns the cwd."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    root = os.path.join(os.path.dirname(cfg["workdir"]), "root")
    os.makedirs(root, exist_ok=True)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, f"size={cfg['disk_mb']}m,mode=755")
    _populate_root(root, cfg, notes)
    os.chroot(root)
    os.chdir("/")
    protections += ["chroot", "readonly-system", "private-tmp"]
    return SANDBOX_DIR


def _chown_tree(path: str, uid: int) -> None:
    for dirpath, dirnames, filenames in os.walk(path):
        os.chown(dirpath, uid, uid)
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), uid, uid, follow_symlinks=False)


def _set_rlimits(limits: dict[str, int], enforce_nproc: bool) -> None:
    cpu, mem, fsize = limits["cpu_s"], limits["memory_mb"] << 20, limits["file_mb"] << 20
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if enforce_nproc:
        resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"], limits["processes"]))


def _drop_bounding_set(keep: int = 0) -> None:
    """No capability outside the `keep` bit mask can be gained again, even by exec."""
    for cap in range(64):
        if keep & (1 << cap):
            continue
        if _libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0) != 0:
            break  # past the last capability this kernel knows


def _capset(mask: int) -> None:
    """Set the effective, permitted and inheritable sets to `mask` (capabilities 0-31)."""
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)(mask, mask, mask, 0, 0, 0)
    _check(_libc.capset(header, data), "capset")


def _drop_capabilities() -> None:
    """As (namespace) root that cannot change uid: empty every capability set for good."""
    _drop_bounding_set()
    _prctl(PR_SET_SECUREBITS, SECUREBITS_NOROOT_LOCKED)
    _capset(0)


def _become(uid: int, read_search: bool) -> None:
    """Switch to the run's private uid; `read_search` keeps only the right to read any file
    (for an interpreter an unprivileged uid cannot reach, e.g. under /root)."""
    keep = 1 << CAP_DAC_READ_SEARCH if read_search else 0
    os.setgroups([])
    os.setgid(uid)
    _drop_bounding_set(keep)
    if keep:
        _prctl(PR_SET_KEEPCAPS, 1)
    os.setuid(uid)
    if keep:
        _capset(keep)
        _check(_libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_DAC_READ_SEARCH, 0, 0),
               "ambient capability")


def _exec_code(cfg: dict[str, Any], cwd: str, plan: dict[str, Any]) -> None:
    """In the forked child: confine this process, then become the code's interpreter."""
    try:
        os.chdir(cwd)
        _set_rlimits(cfg["limits"], enforce_nproc=plan["uid"] is not None)
        if plan["uid"] is not None:
            _become(plan["uid"], plan["read_search"])
        elif plan["drop_caps"]:
            _drop_capabilities()
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        env = {**cfg["env"], "HOME": cwd, "TMPDIR": plan["tmpdir"]}
        argv = [cfg["python"], "-s", "-S"]
        argv += ["-c", SOCKET_GUARD] if plan["socket_guard"] else []
        os.execve(cfg["python"], argv + [cfg["main"]], env)
    except BaseException as exc:  # noqa: BLE001 - report anything, then die without cleanup
        os.write(2, f"sandbox: could not start the code: {exc}\n".encode())
    os._exit(126)


def _reap_until(child: int) -> tuple[int, Any]:
    """Reap every process (we may be process 1 or a subreaper) until `child` exits."""
    while True:
        try:
            pid, status, usage = os.wait4(-1, 0)
        except InterruptedError:
            continue
        if pid == child:
            return status, usage


def _kill_descendants() -> None:
    """Outside a pid namespace: kill what the code left behind (reparented to us)."""
    me = str(os.getpid())
    for _ in range(100):
        found = False
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = fh.read().rsplit(")", 1)[1].split()[1]
            except (OSError, IndexError):
                continue
            if ppid == me:
                found = True
                try:
                    os.kill(int(entry), signal.SIGKILL)
                except ProcessLookupError:
                    pass
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                return
        if not found:
            return


def _has_capability(cap: int) -> bool:
    with open("/proc/self/status") as fh:
        line = next(x for x in fh if x.startswith("CapEff:"))
    return bool(int(line.split()[1], 16) & (1 << cap))


def _identity(cfg: dict[str, Any], chrooted: bool,
              protections: list[str], notes: list[str]) -> tuple[int | None, bool]:
    """The uid the code runs as (None: unchanged) and whether it keeps read-search."""
    if os.geteuid() != 0 or cfg["userns"]:
        return None, False
    if chrooted or cfg["python_public"]:
        protections += ["uid-drop", "rlimit-nproc"]
        return cfg["uid"], False
    if _has_capability(CAP_DAC_READ_SEARCH):
        protections += ["uid-drop", "read-search", "rlimit-nproc"]
        return cfg["uid"], True
    notes.append("runs as root: the interpreter is unreachable for an unprivileged uid")
    return None, False


def _plan(cfg: dict[str, Any], chrooted: bool,
          protections: list[str], notes: list[str]) -> dict[str, Any]:
    """Who the code runs as and what else guards it, given what setup achieved."""
    uid, read_search = _identity(cfg, chrooted, protections, notes)
    if cfg["userns"]:
        protections.append("caps-drop")
    guard = not cfg["network"] and "netns" not in cfg["namespaces"]
    if guard:
        protections.append("socket-guard")
    protections += ["no-new-privs", "rlimit-cpu", "rlimit-as", "rlimit-fsize", "rlimit-core"]
    tmpdir = "/tmp" if chrooted else os.path.join(cfg["workdir"], ".tmp")
    return {"uid": uid, "read_search": read_search, "drop_caps": cfg["userns"],
            "socket_guard": guard, "tmpdir": tmpdir}


def _prepare(cfg: dict[str, Any], protections: list[str], notes: list[str]) -> tuple[str, bool]:
    """Set up the filesystem; returns (the code's cwd, whether it runs in the private root)."""
    if "utsns" in cfg["namespaces"]:
        try:
            socket.sethostname("sandbox")
        except OSError as exc:
            notes.append(f"hostname kept ({exc})")
    if cfg["namespaces"]:
        try:
            return _enter_private_root(cfg, protections, notes), True
        except OSError as exc:
            notes.append(f"private root unavailable ({exc})")
    os.makedirs(os.path.join(cfg["workdir"], ".tmp"), exist_ok=True)
    try:
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
        protections.append("subreaper")
    except OSError as exc:
        notes.append(f"no subreaper ({exc})")
    return cfg["workdir"], False


def main() -> None:
    """Run the configured code once; report the setup, then the verdict, as JSON lines."""
    cfg = json.loads(sys.argv[1])
    status_fd = cfg["status_fd"]
    os.set_inheritable(status_fd, False)
    protections, notes = list(cfg["namespaces"]), []
    try:  # the code (same uid in a user namespace) cannot open our /proc/<pid>/fd or ptrace us
        _prctl(PR_SET_DUMPABLE, 0)
        protections.append("launcher-nondumpable")
    except OSError as exc:
        notes.append(f"launcher stays dumpable ({exc})")
    cwd, chrooted = _prepare(cfg, protections, notes)
    plan = _plan(cfg, chrooted, protections, notes)
    if plan["uid"] is not None:
        _chown_tree(SANDBOX_DIR if chrooted else cfg["workdir"], plan["uid"])
    setup = {"protections": protections, "notes": notes}
    os.write(status_fd, json.dumps(setup).encode() + b"\n")  # known even if we get killed
    child = os.fork()
    if child == 0:
        os.close(status_fd)
        _exec_code(cfg, cwd, plan)
    status, usage = _reap_until(child)
    verdict = {"exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
               "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
               "cpu_s": usage.ru_utime + usage.ru_stime}
    os.write(status_fd, json.dumps(verdict).encode() + b"\n")
    os.close(status_fd)
    if os.getpid() != 1:
        _kill_descendants()
    os._exit(0)


if __name__ == "__main__":
    main()
