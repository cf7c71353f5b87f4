"""
NAME
    e2e_cpu - CPU time and memory of groups of processes, for bench-e2e
SYNOPSIS
    from e2e_cpu import CpuGroups, proc_status_kb, proc_ticks
DESCRIPTION
    CpuGroups(names) makes one private cgroup per name (cgroup v2
    cpu.stat usage_usec, else the v1 cpuacct hierarchy's cpuacct.usage):
    a process moved there (add, or enter from a preexec_fn, or a process
    writing its own pid into procs_file) takes every child it forks
    later along, and the group's usage counts processes that have
    exited too. Without a writable hierarchy (kind None) it falls back
    to /proc: the added processes, their live descendants and what they
    reaped (cutime, cstime). close() moves leftovers to the root group
    and removes the groups.
    proc_status_kb(pid, field) reads VmRSS/VmHWM; proc_ticks(pid) CPU s.
DIAGNOSTICS
    OSError from add() when the process is gone (ProcessLookupError).
"""
import os
import pwd
import time

from rig_base import descendants, pid_alive


def proc_status_kb(pid, field):
    """A kB field of /proc/PID/status (VmRSS, VmHWM), 0 if gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def proc_ticks(pid, children=True):
    """utime+stime (+cutime+cstime) of pid in seconds, 0 if gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    t = sum(int(x) for x in fields[11:15 if children else 13])
    return t / os.sysconf("SC_CLK_TCK")


class CpuGroups:
    """CPU time of groups of processes, exited ones included.

    One private cgroup per group under tg-e2e-PID in the cgroup v2
    hierarchy (cpu.stat usage_usec) or else in the v1 cpuacct one
    (cpuacct.usage); processes forked later stay in their parent's. With
    neither writable (kind None): /proc times of the added processes,
    their live descendants, and what they reaped (cutime, cstime).
    """

    def __init__(self, names):
        self.names, self.kind, self.parent = list(names), None, None
        self.added = {n: [] for n in names}
        for kind, base in self._hierarchies():
            parent = os.path.join(base, "tg-e2e-%d" % os.getpid())
            try:
                os.mkdir(parent)
                for n in names:
                    os.mkdir(os.path.join(parent, n))
                self.kind, self.base, self.parent = kind, base, parent
                if all(self.usage(n) is not None for n in names):
                    return
            except OSError:
                pass
            self.close()
            self.kind = None

    @staticmethod
    def _hierarchies():
        """(kind, mount point) of the v2, then the v1 cpuacct hierarchy."""
        v2, v1 = [], []
        with open("/proc/mounts") as f:
            for line in f:
                _, mnt, typ, opts = line.split()[:4]
                if typ == "cgroup2":
                    v2.append(("v2", mnt))
                elif typ == "cgroup" and "cpuacct" in opts.split(","):
                    v1.append(("v1", mnt))
        return v2 + v1

    def procs_file(self, name):
        """The group's cgroup.procs, or None without cgroups."""
        return os.path.join(self.parent, name, "cgroup.procs") \
            if self.kind else None

    def allow(self, name, user):
        """Let processes of user move themselves into the group."""
        if not self.kind:
            return
        uid = pwd.getpwnam(user).pw_uid
        for path in (self.procs_file(name), os.path.join(self.parent,
            "cgroup.procs")):
            os.chown(path, uid, -1)

    def enter(self, name):
        """Move the calling process into the group (for preexec_fn)."""
        if self.kind:
            with open(self.procs_file(name), "w") as f:
                f.write(str(os.getpid()))

    def add(self, name, pid):
        """Move pid (all its threads) into the group."""
        self.added[name].append(pid)
        if self.kind:
            with open(self.procs_file(name), "w") as f:
                f.write(str(pid))

    def pids(self, name):
        """Processes now in the group."""
        if not self.kind:
            out = set()
            for p in self.added[name]:
                if pid_alive(p):
                    out |= {p} | set(descendants(p))
            return out
        try:
            with open(self.procs_file(name)) as f:
                return {int(x) for x in f.read().split()}
        except OSError:
            return set()

    def usage(self, name):
        """CPU seconds the group used so far, or None if unknown."""
        if not self.kind:
            return sum(proc_ticks(p) for p in self.pids(name)) + \
                sum(proc_ticks(p) for p in self.added[name]
                if not pid_alive(p))
        d = os.path.join(self.parent, name)
        try:
            if self.kind == "v2":
                with open(os.path.join(d, "cpu.stat")) as f:
                    for line in f:
                        if line.startswith("usage_usec "):
                            return int(line.split()[1]) / 1e6
                return None
            with open(os.path.join(d, "cpuacct.usage")) as f:
                return int(f.read()) / 1e9
        except (OSError, ValueError):
            return None

    def close(self):
        """Move what is left to the root group, remove the groups."""
        if not self.parent:
            return
        for n in self.names:
            d = os.path.join(self.parent, n)
            for pid in self.pids(n) if os.path.isdir(d) else ():
                try:
                    with open(os.path.join(self.base, "cgroup.procs"),
                        "w") as f:
                        f.write(str(pid))
                except OSError:
                    pass
            for _ in range(20):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)
        try:
            os.rmdir(self.parent)
        except OSError as e:
            print("bench-e2e: cannot remove %s: %s" % (self.parent, e))
        self.parent = None
