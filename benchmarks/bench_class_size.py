"""Sizing a class: each lesson kernel's peak memory and CPU time, and what a hub needs for 30, 100, 300 students.

    .venv/bin/python benchmarks/bench_class_size.py                  # every lesson and every solved exercise set
    .venv/bin/python benchmarks/bench_class_size.py --only 02 06     # some (notebook names starting so)
    .venv/bin/python benchmarks/bench_class_size.py --json out.json  # also keep the measurements
    .venv/bin/python benchmarks/bench_class_size.py --from-json out.json --wait 120   # sizing again, no run

Each notebook runs top to bottom in a fresh kernel (nbclient, like ``scripts/run_lessons``) from a copy in a
temporary folder: the lessons are never written back. After every cell the kernel process is read from
``/proc`` (Linux): its peak resident memory (``VmHWM``, the kernel's high-water mark, so nothing between two
readings is missed), its resident memory and its CPU time (user + system, of the kernel and the children it
reaped). The same run measures the obvious alternatives a kernel is compared with: an empty kernel, a kernel
that only imported fapi_lab and Keras, and a JupyterLab server (what each student's hub server costs before
any notebook runs).

Data: ``--data standin`` (default) is what the stored outputs use (``FAPI_LAB_DATA=standin``: 1,438 MNIST and
CIFAR-10 training images). ``--data fullsize`` writes a Keras cache with the real data sets' shapes (60,000 +
10,000 MNIST, 50,000 + 10,000 CIFAR-10 images, made of the stand-in's images) into a temporary KERAS_HOME and
runs with ``FAPI_LAB_DATA=real``: what a hub that downloads the real data would pay (a cell that asserts a
result may fail on that data; the run goes on and says so).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import pickle
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "notebooks"
SOLUTIONS = ROOT / "solutions" / "exercises"
MIB = 1024 * 1024
GIB = 1024 * MIB
TICK = os.sysconf("SC_CLK_TCK")
CLASSES = ((30, 1.0, "one class in the room, everyone at once"),
           (100, 0.5, "a course working at different times: half at once"),
           (300, 1 / 3, "a large course: a third at once"))


# -- reading a process from /proc ---------------------------------------------------------------------------
def proc_memory(pid: int) -> tuple[int, int]:
    """(peak resident bytes, resident bytes) of a process: VmHWM and VmRSS of /proc/PID/status."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            fields[key] = int(value.split()[0]) * 1024
    return fields["VmHWM"], fields["VmRSS"]


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and the children it waited for: /proc/PID/stat."""
    after_name = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    utime, stime, cutime, cstime = (int(v) for v in after_name[11:15])  # fields 14-17 of proc(5)
    return (utime + stime + cutime + cstime) / TICK


def children_rss(pid: int) -> int:
    try:
        import psutil
    except ModuleNotFoundError:  # pragma: no cover - psutil comes with ipykernel
        return 0
    total = 0
    for child in psutil.Process(pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += child.memory_info().rss
    return total


# -- running one notebook ------------------------------------------------------------------------------------
@dataclass
class Run:
    name: str
    kind: str  # "lesson", "exercise set (solved)", "baseline"
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_bytes: int = 0
    end_bytes: int = 0
    children_bytes: int = 0
    heaviest_cell_cpu_s: float = 0.0
    heaviest_cell: str = ""
    errors: list[str] = field(default_factory=list)
    cut: bool = False  # a cell ran into --timeout and was interrupted: its CPU time is a lower bound


def run_notebook(path: Path, workdir: Path, kind: str, timeout: int) -> Run:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    run = Run(path.name, kind)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True, interrupt_on_timeout=True,
                            resources={"metadata": {"path": str(workdir)}})
    started: dict[str, float] = {}

    def pid() -> int:
        return client.km.provisioner.process.pid

    def on_cell_start(cell, cell_index: int) -> None:
        started["cpu"], started["wall"] = proc_cpu(pid()), time.monotonic()

    def on_cell_executed(cell, cell_index: int, execute_reply) -> None:
        kernel = pid()
        cpu = proc_cpu(kernel)
        run.peak_bytes, run.end_bytes = proc_memory(kernel)
        run.cpu_s = cpu
        run.children_bytes = max(run.children_bytes, children_rss(kernel))
        spent = cpu - started.get("cpu", cpu)
        if spent > run.heaviest_cell_cpu_s:
            first = next((ln for ln in cell.source.splitlines() if ln.strip() and not ln.startswith("#")), "")
            run.heaviest_cell_cpu_s, run.heaviest_cell = spent, f"cell {cell_index}: {first.strip()[:60]}"
        if time.monotonic() - started.get("wall", time.monotonic()) >= timeout:
            run.cut = True
            run.errors.append(f"cell {cell_index}: interrupted after the --timeout of {timeout} s (CPU is a lower "
                              f"bound; memory is the peak reached until then)")
        elif any(o.get("output_type") == "error" for o in cell.get("outputs", [])) and \
                "raises-exception" not in cell.metadata.get("tags", []):
            error = next(o for o in cell.outputs if o.get("output_type") == "error")
            run.errors.append(f"cell {cell_index}: {error.get('ename')}: {str(error.get('evalue'))[:100]}")

    client.on_cell_start = on_cell_start
    client.on_cell_executed = on_cell_executed
    start = time.perf_counter()
    client.execute()
    run.wall_s = time.perf_counter() - start
    return run


def baseline_kernel(name: str, code: str, workdir: Path) -> Run:
    import nbformat

    path = workdir / f"_{name}.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), path)
    try:
        return run_notebook(path, workdir, "baseline", 300)
    finally:
        path.unlink()


def jupyterlab_server_rss(workdir: Path) -> int:
    """Resident memory of a JupyterLab server that has served the Lab page once (no kernel running)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = "bench-class-size"
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={workdir}", "--allow-root"]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                for page in ("api/status", "lab", "api/kernelspecs", "lab/api/settings"):
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/{page}?token={token}", timeout=10):
                        pass
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("JupyterLab did not start within 120 s") from None
                time.sleep(0.5)
        time.sleep(2)
        return proc_memory(server.pid)[1]
    finally:
        server.terminate()
        server.wait(timeout=30)


# -- full-size data ------------------------------------------------------------------------------------------
def write_fullsize_cache(home: Path) -> None:
    """A Keras cache holding data of the real data sets' shapes, tiled from the stand-in's images."""
    import numpy as np

    from fapi_lab import datasets

    rng = np.random.default_rng(0)

    def tile(x: np.ndarray, y: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        pick = rng.integers(0, len(x), n)
        return x[pick], y[pick]

    (mx, my), _ = datasets.mnist("standin", verbose=False)
    (mx_train, my_train), (mx_test, my_test) = tile(mx, my, 60_000), tile(mx, my, 10_000)
    folder = home / "datasets"
    folder.mkdir(parents=True)
    np.savez(folder / "mnist.npz", x_train=mx_train, y_train=my_train, x_test=mx_test, y_test=my_test)
    (cx, cy), _ = datasets.cifar10("standin", verbose=False)
    cifar = folder / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    cifar.mkdir(parents=True)
    for batch in [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]:
        x, y = tile(cx, cy, 10_000)
        data = {b"data": x.transpose(0, 3, 1, 2).reshape(10_000, -1), b"labels": y.ravel().tolist()}
        with (cifar / batch).open("wb") as f:
            pickle.dump(data, f)


# -- sizing ----------------------------------------------------------------------------------------------------
def gib_up(n_bytes: float, step: float = 0.25) -> float:
    return math.ceil(n_bytes / GIB / step) * step


def size(gib: float) -> str:
    """JupyterHub's byte notation (K/M/G/T are powers of 1024): whole gigabytes as G, others in M."""
    return f"{gib:g}G" if gib == int(gib) else f"{round(gib * 1024)}M"


def sizing(result: dict, wait_s: float, headroom: float, hub_overhead_gib: float) -> str:
    lessons = [Run(**r) for r in result["runs"] if r["kind"] == "lesson"]
    exercises = [Run(**r) for r in result["runs"] if r["kind"] == "exercise set (solved)"]
    server = result["server_bytes"]
    lesson_peak = max(r.peak_bytes + r.children_bytes for r in lessons)
    exercise_peak = max((r.peak_bytes + r.children_bytes for r in exercises), default=0)
    heaviest = max(lessons + exercises, key=lambda r: r.heaviest_cell_cpu_s)
    guarantee = gib_up(server + lesson_peak)
    limit = gib_up((server + lesson_peak + exercise_peak) * headroom, 0.5)
    cpu_guarantee = math.ceil(heaviest.heaviest_cell_cpu_s / wait_s * 20) / 20
    cpu_limit = 2
    lines = [
        "",
        "Per student (from the measurements above):",
        f"  JupyterLab server                         {server / MIB:7.0f} MiB",
        f"  heaviest lesson kernel at its peak        {lesson_peak / MIB:7.0f} MiB",
        f"  heaviest solved exercise-set kernel       {exercise_peak / MIB:7.0f} MiB",
        f"  memory guarantee = server + heaviest lesson kernel, rounded up             = {size(guarantee)}",
        f"  memory limit = (server + lesson + exercise-set kernel open together) x {headroom:g}, rounded "
        f"= {size(limit)}",
        f"  heaviest cell: {heaviest.name} {heaviest.heaviest_cell} = {heaviest.heaviest_cell_cpu_s:.0f} CPU s",
        f"  CPU guarantee = that cell's CPU s / {wait_s:g} s (everyone runs it together and waits at most "
        f"{wait_s:g} s) = {cpu_guarantee:g}",
        f"  CPU limit = {cpu_limit} (the lesson times are measured on 2 cores)",
        "",
        f"The Littlest JupyterHub (one machine; + {hub_overhead_gib:g} GiB for the system, JupyterHub and its "
        f"proxy, assumed):",
        f"  {'students':>8} {'at once':>8} {'RAM (GiB)':>10} {'cores':>6}  assumption",
    ]
    for students, share, why in CLASSES:
        active = math.ceil(students * share)
        ram = math.ceil(active * guarantee + hub_overhead_gib)
        cores = max(2, math.ceil(active * cpu_guarantee + 1))
        lines.append(f"  {students:>8} {active:>8} {ram:>10} {cores:>6}  {why}")
    lines += [
        f"  tljh-config set limits.memory {size(limit)}; tljh-config set limits.cpu {cpu_limit}; tljh-config reload",
        "",
        "Zero to JupyterHub (Kubernetes), config.yaml:",
        "  singleuser:",
        "    extraEnv:",
        "      FAPI_LAB_DATA: standin" if result["data"] == "standin" else "      FAPI_LAB_DATA: real",
        "    profileList:",
        "      - display_name: fapi_lab lessons",
        "        default: true",
        "        kubespawner_override:",
        f"          mem_guarantee: {size(guarantee)}",
        f"          mem_limit: {size(limit)}",
        f"          cpu_guarantee: {cpu_guarantee:g}",
        f"          cpu_limit: {cpu_limit}",
    ]
    node_cores, node_gib = 8, 32
    lines.append(f"  nodes of {node_cores} vCPU / {node_gib} GiB (about {node_gib - 2} GiB and {node_cores - 0.5:g} "
                 f"vCPU allocatable, assumed), by guarantees:")
    for students, share, _ in CLASSES:
        active = math.ceil(students * share)
        per_node = min((node_gib - 2) // guarantee, (node_cores - 0.5) // cpu_guarantee if cpu_guarantee else 1e9)
        lines.append(f"  {students:>8} students, {active:>4} at once: {math.ceil(active / per_node):>3} nodes "
                     f"({int(per_node)} students a node)")
    return "\n".join(lines)


def table(result: dict) -> str:
    head = f"{'notebook':42} {'wall s':>7} {'CPU s':>7} {'peak MiB':>9} {'end MiB':>8}  heaviest cell (CPU s)"
    rows = [head, "-" * len(head)]
    for r in (Run(**x) for x in result["runs"]):
        cpu = f"{r.cpu_s:6.1f}{'+' if r.cut else ' '}"
        peak = (r.peak_bytes + r.children_bytes) / MIB
        rows.append(f"{r.name[:42]:42} {r.wall_s:7.1f} {cpu} {peak:9.0f} {r.end_bytes / MIB:8.0f}  "
                    f"{r.heaviest_cell_cpu_s:5.1f} {r.heaviest_cell}")
        rows += [f"{'':42} ERROR {e}" for e in r.errors]
    base = {r["name"]: r for r in result["runs"] if r["kind"] == "baseline"}
    lessons = [r for r in result["runs"] if r["kind"] == "lesson"]
    if lessons:
        peaks = [r["peak_bytes"] for r in lessons]
        cpu = [r["cpu_s"] for r in lessons]
        rows += ["", f"lessons: {len(lessons)}, CPU {sum(cpu):.0f} s in all (median {statistics.median(cpu):.0f} s); "
                     f"peak memory median {statistics.median(peaks) / MIB:.0f} MiB, max {max(peaks) / MIB:.0f} MiB"]
        for name in ("empty kernel", "kernel after import fapi_lab, keras"):
            if name in base:
                rows.append(f"  ratio max lesson peak / {name}: {max(peaks) / base[name]['peak_bytes']:.1f}x")
    rows.append(f"JupyterLab server, no kernel: {result['server_bytes'] / MIB:.0f} MiB resident")
    return "\n".join(rows)


def measure(args: argparse.Namespace) -> dict:
    env_data = {"standin": "standin", "fullsize": "real"}[args.data]
    result: dict = {"data": args.data, "cores": os.cpu_count(), "runs": []}
    with tempfile.TemporaryDirectory(prefix="bench-class-size-") as tmp:
        work = Path(tmp) / "work"
        (work / "exercises").mkdir(parents=True)
        os.environ.update(FAPI_LAB_DATA=env_data, PYTHONHASHSEED="0", TF_CPP_MIN_LOG_LEVEL="3")
        if args.data == "fullsize":
            os.environ["KERAS_HOME"] = str(Path(tmp) / "keras")
            write_fullsize_cache(Path(tmp) / "keras")
        picked = [p for p in sorted(LESSONS.glob("[0-9]*.ipynb"))
                  if not args.only or p.name.startswith(tuple(args.only))]
        if not args.no_exercises:
            picked += [p for p in sorted(SOLUTIONS.glob("ex*.ipynb"))
                       if not args.only or p.name.startswith(tuple(args.only))]
        print(f"measuring a JupyterLab server and {len(picked)} notebooks, one fresh kernel each "
              f"(data: {args.data}) ...", flush=True)
        result["server_bytes"] = jupyterlab_server_rss(work)
        for name, code in (("empty kernel", "pass"),
                           ("kernel after import fapi_lab, keras", "import fapi_lab as lab\nimport keras")):
            run = baseline_kernel(name.replace(" ", "_").replace(",", ""), code, work)
            run.name = name
            result["runs"].append(asdict(run))
        for src in picked:
            kind = "lesson" if src.parent == LESSONS else "exercise set (solved)"
            copy = (work / "exercises" if kind != "lesson" else work) / src.name
            shutil.copyfile(src, copy)
            run = run_notebook(copy, copy.parent, kind, args.timeout)
            result["runs"].append(asdict(run))
            print(f"  {src.name:45} {run.wall_s:6.1f} s wall, {run.cpu_s:6.1f} CPU s, "
                  f"peak {run.peak_bytes / MIB:5.0f} MiB" + (f", {len(run.errors)} errors" if run.errors else ""),
                  flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", metavar="PREFIX", help="notebooks whose names start so")
    parser.add_argument("--no-exercises", action="store_true", help="lessons only, not the solved exercise sets")
    parser.add_argument("--data", choices=("standin", "fullsize"), default="standin")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds a cell may run (default %(default)s)")
    parser.add_argument("--json", type=Path, help="also write the measurements here (a new file)")
    parser.add_argument("--from-json", type=Path, help="no run: size from measurements written by --json")
    parser.add_argument("--wait", type=float, default=180.0,
                        help="seconds the whole class may wait for the heaviest cell (default %(default)s)")
    parser.add_argument("--headroom", type=float, default=1.2, help="memory limit factor (default %(default)s)")
    parser.add_argument("--hub-overhead", type=float, default=1.0, help="GiB for system + hub (default %(default)s)")
    args = parser.parse_args(argv)
    if sys.platform != "linux" and not args.from_json:
        parser.error("the measurements read /proc: run this on Linux (where the hub runs)")
    if args.json and args.json.exists():
        parser.error(f"{args.json} exists; choose a new file name (nothing is overwritten)")
    if args.from_json:
        result = json.loads(args.from_json.read_text())
    else:
        result = measure(args)
        if args.json:
            args.json.write_text(json.dumps(result, indent=1) + "\n")
    print()
    print(f"data: {result['data']}, {result['cores']} cores")
    print(table(result))
    if any(r["kind"] == "lesson" for r in result["runs"]):
        print(sizing(result, args.wait, args.headroom, args.hub_overhead))
    return 0


if __name__ == "__main__":
    sys.exit(main())
