"""A real one-host Grid Engine for the tests: Debian's gridengine-master/-exec/-client
(Son of Grid Engine 8.1.9), its qmaster and execd run from a temporary folder.

    from helpers.gridengine import gridengine  # noqa: F401  (the session fixture)

The Debian packages create a cell (``/var/lib/gridengine/default``) and its initial
Berkeley DB spool when installed; the fixture copies both into a fresh /tmp folder,
points the copy's bootstrap there and starts ``sge_qmaster`` and ``sge_execd`` on two
free ports (``SGE_QMASTER_PORT``/``SGE_EXECD_PORT``), so the system's cell is never
used or changed. It then allows jobs of root (``min_uid 0``), schedules every second,
adds this host as submit and execution host, a parallel environment ``smp`` and a
queue ``all.q`` with one slot per CPU. Grid Engine has no setting to listen on one
address: while the tests run, the two daemons listen on all interfaces (on those two
random ports, accepting only this host). Skipped when not root or not installed
(``tools/install.sh --gridengine``); stopped at the end like the Slurm cluster.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from helpers.daemons import DaemonFolder, free_port_range, running

PROGRAMS = ("sge_qmaster", "sge_execd", "qsub", "qstat", "qdel", "qconf", "qacct")
CELL = Path("/var/lib/gridengine/default/common")
SPOOL = Path("/var/spool/gridengine/spooldb")

QUEUE = """qname all.q
hostlist {host}
seq_no 0
load_thresholds NONE
suspend_thresholds NONE
nsuspend 1
suspend_interval 00:05:00
priority 0
min_cpu_interval 00:05:00
processors UNDEFINED
qtype BATCH INTERACTIVE
ckpt_list NONE
pe_list smp
rerun FALSE
slots {slots}
tmpdir /tmp
shell /bin/bash
prolog NONE
epilog NONE
shell_start_mode posix_compliant
starter_method NONE
suspend_method NONE
resume_method NONE
terminate_method NONE
notify 00:00:60
owner_list NONE
user_lists NONE
xuser_lists NONE
subordinate_list NONE
complex_values NONE
projects NONE
xprojects NONE
calendar NONE
initial_state default
""" + "".join(f"{k} INFINITY\n" for k in (
    "s_rt", "h_rt", "s_cpu", "h_cpu", "s_fsize", "h_fsize", "s_data", "h_data", "s_stack",
    "h_stack", "s_core", "h_core", "s_rss", "h_rss", "s_vmem", "h_vmem"))

PE = """pe_name smp
slots 999
user_lists NONE
xuser_lists NONE
start_proc_args NONE
stop_proc_args NONE
allocation_rule $pe_slots
control_slaves FALSE
job_is_first_task TRUE
urgency_slots min
accounting_summary FALSE
qsort_args NONE
"""

EXEC_HOST = """hostname {host}
load_scaling NONE
complex_values NONE
user_lists NONE
xuser_lists NONE
projects NONE
xprojects NONE
usage_scaling NONE
report_variables NONE
"""


class GridEngine(DaemonFolder):
    def __init__(self, folder: Path):
        super().__init__(folder)
        self.env = {"SGE_ROOT": str(folder), "SGE_CELL": "default",
                    "SEPCORE_QUEUE_CHECK_INTERVAL": "1", "SEPCORE_QUEUE_GRACE": "2"}

    def start(self) -> None:
        t0 = time.monotonic()
        f = self.folder
        self.prepare()
        host = subprocess.run(["/usr/lib/gridengine/gethostname", "-name"], capture_output=True,
                              text=True, check=True).stdout.strip()
        common = f / "default" / "common"
        shutil.copytree(CELL, common)
        for name in ("act_qmaster", "accounting"):
            (common / name).unlink(missing_ok=True)
        (common / "act_qmaster").write_text(host + "\n")
        # the client connects from 127.0.0.1, which /etc/hosts may call localhost
        (common / "host_aliases").write_text(f"{host} localhost\n")
        bootstrap = (common / "bootstrap").read_text().replace("/var/spool/gridengine",
                                                              str(f / "spool"))
        (common / "bootstrap").write_text(bootstrap)
        (f / "spool" / "qmaster").mkdir(parents=True)
        (f / "spool" / "execd").mkdir()
        shutil.copytree(SPOOL, f / "spool" / "spooldb")
        admin = pwd.getpwnam("sgeadmin")
        for p in [f / "spool", *(f / "spool").rglob("*"), common, *common.rglob("*")]:
            os.chown(p, admin.pw_uid, admin.pw_gid)
        port = free_port_range(2)
        self.env.update(SGE_QMASTER_PORT=str(port), SGE_EXECD_PORT=str(port + 1))
        self.daemon("sge_qmaster", env={"SGE_ND": "1"})
        self.wait(lambda: self.run("qconf", "-sh", check=False).returncode == 0, "qmaster")
        conf = f / "conf"
        conf.mkdir()
        glob = self.run("qconf", "-sconf").stdout
        # jobs of root; the execd's spool here, not the system's (/var/spool/gridengine,
        # where the job files of another cluster would meet ours); finished jobs in
        # qacct's file within a second (default 15 s)
        (conf / "global").write_text("".join(
            "min_uid 0\n" if line.startswith("min_uid") else
            "min_gid 0\n" if line.startswith("min_gid") else
            f"execd_spool_dir {f}/spool/execd\n" if line.startswith("execd_spool_dir") else
            "reporting_params accounting=true reporting=false flush_time=00:00:01 "
            "joblog=false sharelog=00:00:00 accounting_flush_time=00:00:00\n"
            if line.startswith("reporting_params") else line + "\n"
            for line in glob.splitlines()))
        sched = self.run("qconf", "-ssconf").stdout
        (conf / "sched").write_text("".join(
            "schedule_interval 0:0:1\n" if line.startswith("schedule_interval") else
            "flush_submit_sec 1\n" if line.startswith("flush_submit_sec") else
            "flush_finish_sec 1\n" if line.startswith("flush_finish_sec") else line + "\n"
            for line in sched.splitlines()))
        (conf / "exechost").write_text(EXEC_HOST.format(host=host))
        (conf / "pe").write_text(PE)
        (conf / "queue").write_text(QUEUE.format(host=host, slots=os.cpu_count() or 1))
        for args in (["-Mconf", "global"], ["-Msconf", "sched"], ["-as", host],
                     ["-Ae", "exechost"], ["-Ap", "pe"], ["-Aq", "queue"]):
            r = self.run("qconf", *args, cwd=conf, check=False)
            if r.returncode != 0:
                raise RuntimeError(f"qconf {' '.join(args)}: {r.stdout}{r.stderr}")
        self.daemon("sge_execd", env={"SGE_ND": "1"})
        self.wait(self._queue_up, "the execution host")
        self.start_seconds = time.monotonic() - t0

    def _queue_up(self) -> bool:
        r = self.run("qstat", "-f", "-q", "all.q", check=False, timeout=10)
        rows = [line.split() for line in r.stdout.splitlines() if line.startswith("all.q@")]
        # queuename qtype used/tot load arch [states]: no state letters once execd reports
        return r.returncode == 0 and len(rows) == 1 and len(rows[0]) == 5

    def jobs(self) -> list[str]:
        return [line.split()[0] for line in self.run("qstat").stdout.splitlines()[2:]]

    def stop(self) -> None:
        try:
            if self.procs and all(p.poll() is None for p in self.procs):
                self.run("qdel", "-u", "root", check=False, timeout=10)
        finally:
            super().stop()


def unavailable_reason() -> str | None:
    if os.geteuid() != 0:
        return "the test Grid Engine needs root (its daemons run as sgeadmin)"
    missing = [p for p in PROGRAMS if shutil.which(p) is None]
    if missing or not (CELL / "bootstrap").is_file() or not SPOOL.is_dir():
        return (f"gridengine-master/-exec/-client not installed (missing "
                f"{' '.join(missing) or CELL / 'bootstrap'}); "
                "as root: tools/install.sh --gridengine")
    return None


@pytest.fixture(scope="session")
def gridengine():
    yield from running(GridEngine, "sepcore-sge-", unavailable_reason(), "Grid Engine")
