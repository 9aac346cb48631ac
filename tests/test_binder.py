"""The Binder set-up (binder/, read by repo2docker) stays consistent with pyproject.toml and fapi_lab's quiet set-up.

repo2docker is not run here (it needs Docker and the network), so these checks read the files as repo2docker
does: ``apt.txt`` one Debian package a line (``#`` starts a comment), ``runtime.txt`` as ``python-X.Y``,
``requirements.txt`` installed with ``pip install -r`` and ``postBuild`` run once, both in the repository's
root; ``start`` runs before every session and must end by running its arguments (``exec "$@"``).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from fapi_lab._quiet import QUIET_ENV

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (tomli is in the test extra there)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


# --- reading the files as repo2docker does ----------------------------------------------------------------


def apt_packages(binder: Path) -> list[str]:
    path = binder / "apt.txt"
    if not path.exists():
        return []
    return [name for line in path.read_text().splitlines() if (name := line.partition("#")[0].strip())]


def _local_target(arg: str, cwd: Path) -> tuple[Path, set[str]] | None:
    """``.``, ``./``, ``.[lessons]``, ``../x[a,b]``: a path (relative to where pip runs) and its extras."""
    match = re.fullmatch(r"(?P<path>\.{1,2}(?:/[^\[\]]*)?|/[^\[\]]*)(?:\[(?P<extras>[^\]]*)\])?", arg)
    if not match:
        return None
    extras = {canonicalize_name(e) for e in (match["extras"] or "").split(",") if e.strip()}
    return (cwd / match["path"]).resolve(), extras


def pip_targets(binder: Path, root: Path) -> list[tuple[Path, set[str]] | Requirement]:
    """What ``requirements.txt`` and the ``pip install`` lines of ``postBuild`` install (pip runs in ``root``)."""
    args: list[str] = []
    requirements = binder / "requirements.txt"
    if requirements.exists():
        for line in requirements.read_text().splitlines():
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                args.extend(shlex.split(line))
    post_build = binder / "postBuild"
    if post_build.exists():
        for line in post_build.read_text().splitlines():
            words = shlex.split(line, comments=True)
            if "pip" in words and words[words.index("pip") + 1:words.index("pip") + 2] == ["install"]:
                args.extend(words[words.index("pip") + 2:])
    targets: list[tuple[Path, set[str]] | Requirement] = []
    for arg in args:
        if arg.startswith("-"):  # -e / --editable (its path follows), --no-cache-dir, -q, ...
            continue
        local = _local_target(arg, root)
        targets.append(local if local is not None else Requirement(arg))
    return targets


def _candidates(spec: SpecifierSet) -> list[Version]:
    found = [Version("0")]
    for s in spec:
        try:
            v = Version(s.version.removesuffix(".*"))
        except InvalidVersion:
            continue
        found += [v, Version(f"{v.base_version}.0.0.0.1")]  # a bound, and a version just above it
    return found


def compatible(a: SpecifierSet, b: SpecifierSet) -> bool:
    """Whether some release satisfies both ranges (an intersection of intervals starts at one of their bounds)."""
    return any(v in a and v in b for v in _candidates(a) + _candidates(b))


def uncovered(project: dict, extras: set[str], binder: Path, root: Path) -> list[str]:
    """The dependencies (and ``extras``) of ``project`` that the Binder image would not install, or would pin
    to a range pyproject.toml does not allow."""
    targets = pip_targets(binder, root)
    installed_extras = [ex for t in targets if isinstance(t, tuple) and t[0] == root for ex in [t[1]]]
    listed = {canonicalize_name(t.name): t.specifier for t in targets if isinstance(t, Requirement)}
    wanted = [(dep, "") for dep in project["dependencies"]]
    wanted += [(dep, x) for x in sorted(extras) for dep in project["optional-dependencies"][x]]
    problems = []
    for dep, extra in wanted:
        req = Requirement(dep)
        name = canonicalize_name(req.name)
        if name in listed and not compatible(listed[name], req.specifier):
            problems.append(f"{req.name}: binder pins {listed[name]}, pyproject.toml wants {dep}")
        elif name in listed:
            continue
        elif not any(not extra or canonicalize_name(extra) in ex for ex in installed_extras):
            problems.append(f"{dep} ({'extra ' + extra if extra else 'dependency'}) is not installed")
    return problems


# --- the repository's binder/ -----------------------------------------------------------------------------


def test_binder_installs_every_dependency_of_pyproject_with_a_compatible_range() -> None:
    assert uncovered(PYPROJECT, {"lessons"}, BINDER, ROOT) == []


def test_apt_txt_installs_graphviz_with_names_repo2docker_accepts() -> None:
    packages = apt_packages(BINDER)
    assert "graphviz" in packages, "lab.graph needs Graphviz's dot"
    bad = [p for p in packages if not re.fullmatch(r"[a-z0-9.+-]+", p)]
    assert not bad, f"repo2docker rejects these apt.txt names: {bad}"


def test_runtime_python_is_allowed_by_requires_python() -> None:
    runtime = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(3\.\d+)", runtime)
    assert match, f"runtime.txt must be python-3.X, not {runtime!r}"
    assert Version(match[1]) in SpecifierSet(PYPROJECT["requires-python"]), \
        f"{runtime} is outside requires-python {PYPROJECT['requires-python']}"


@pytest.mark.parametrize("script", ["postBuild", "start"])
def test_scripts_are_executable_bash_without_syntax_errors(script: str) -> None:
    path = BINDER / script
    assert path.read_text().startswith("#!/bin/bash\n"), "repo2docker runs it as a program: #!/bin/bash first"
    assert path.stat().st_mode & stat.S_IXUSR, f"chmod +x binder/{script}"
    check = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def _run_start(env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BINDER / "start"), *command], capture_output=True, text=True, env=env, timeout=30)


def test_start_exports_the_quiet_variables_of_fapi_lab() -> None:
    clean = {k: v for k, v in os.environ.items() if k not in QUIET_ENV}
    show = "import json, os, sys; print(json.dumps({k: os.environ.get(k) for k in sys.argv[1:]}))"
    out = _run_start(clean, sys.executable, "-c", show, *QUIET_ENV)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == QUIET_ENV
    # like fapi_lab.set_quiet_env, a value the user set is kept
    out = _run_start({**clean, "TF_CPP_MIN_LOG_LEVEL": "1"}, sys.executable, "-c", show, "TF_CPP_MIN_LOG_LEVEL")
    assert json.loads(out.stdout) == {"TF_CPP_MIN_LOG_LEVEL": "1"}


def test_start_ends_by_exec_ing_its_arguments() -> None:
    """``exec "$@"``: the session's command replaces the script (same process), and its exit code is kept."""
    proc = subprocess.Popen([str(BINDER / "start"), "sh", "-c", 'echo $$; exit 7'], stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 7
    assert out.strip() == str(proc.pid), "start must exec the command, not run it as a child"


def test_readme_links_use_the_one_repository_url() -> None:
    """The README cannot compute links, so each one is checked against pyproject.toml's Repository.

    Links to a teacher's student edition (``fapi-lab student-repo``) carry a placeholder owner (``<you>``); they
    must fit its layout: nbgitpuller clones it into a folder named after the repository, lessons at its top."""
    url = PYPROJECT["urls"]["Repository"]
    owner_repo = url.removeprefix("https://github.com/")
    readme = (ROOT / "README.md").read_text()
    lessons = {p.name for p in (ROOT / "notebooks").glob("[0-9]*.ipynb")}
    binder = re.findall(r"https://mybinder\.org/v2/gh/([^/\s]+/[^/\s]+)/[^?\s]+\?urlpath=([^\s)`]+)", readme)
    colab = re.findall(r"https://colab\.research\.google\.com/github/([^/\s]+/[^/\s]+)/", readme)
    installs = [re.sub(r"@[^/]+$", "", u) for u in re.findall(r"git\+(https://[^\s\"`]+)", readme)]
    pullers = [parse_qs(urlsplit(link).query) for link in re.findall(r"\S+/git-pull\?\S+", readme)]
    assert binder and installs and pullers, "the README's Binder link, install line and nbgitpuller link"
    assert set(colab) <= {owner_repo}
    assert set(installs) == {url}
    for repo, urlpath in binder:
        if repo.startswith("<"):  # a student edition: lessons at the top
            assert urlpath == "lab" or urlpath.removeprefix("lab/tree/") in lessons, (repo, urlpath)
        else:
            assert repo == owner_repo, repo
    for query in pullers:
        assert query["branch"] == ["main"]
        (repo,) = query["repo"]
        urlpath = unquote(query["urlpath"][0])
        if repo == url:
            assert urlpath.startswith(f"lab/tree/{owner_repo.split('/')[1]}/notebooks")
        else:
            assert re.fullmatch(r"https://github\.com/<[^>]+>/[\w.-]+", repo), repo
            name = repo.rsplit("/", 1)[1]
            assert urlpath == f"lab/tree/{name}" or urlpath.removeprefix(f"lab/tree/{name}/") in lessons, urlpath
    assert "mybinder.org/v2/gh/" + owner_repo + "/main?urlpath=lab/tree/notebooks" in readme


# --- the checker itself catches broken set-ups ---------------------------------------------------------------


def _binder(tmp_path: Path, **files: str) -> Path:
    binder = tmp_path / "binder"
    binder.mkdir()
    for name, text in files.items():
        (binder / name.replace("_txt", ".txt")).write_text(text)
    return binder


PROJECT = {"dependencies": ["tensorflow>=2.21,<2.22", "numpy>=1.26,<3"],
           "optional-dependencies": {"lessons": ["jupyterlab>=4.2,<5"]}}


@pytest.mark.parametrize(("files", "problems"), [
    ({"postBuild": 'pip install -e ".[lessons]"\n'}, []),
    ({"postBuild": "python -m pip install --no-cache-dir .[lessons]  # the repo\n"}, []),
    ({"requirements_txt": ".[lessons]\n"}, []),
    ({"requirements_txt": "tensorflow~=2.21.0\nnumpy\njupyterlab==4.*\n"}, []),
    ({"postBuild": "pip install -e .\n"}, ["jupyterlab>=4.2,<5 (extra lessons) is not installed"]),
    ({"postBuild": "pip install -e ..[lessons]\n"}, ["tensorflow>=2.21,<2.22 (dependency) is not installed",
                                                     "numpy>=1.26,<3 (dependency) is not installed",
                                                     "jupyterlab>=4.2,<5 (extra lessons) is not installed"]),
    ({"postBuild": "# pip install -e .[lessons]\n"}, ["tensorflow>=2.21,<2.22 (dependency) is not installed",
                                                      "numpy>=1.26,<3 (dependency) is not installed",
                                                      "jupyterlab>=4.2,<5 (extra lessons) is not installed"]),
    ({"requirements_txt": ".[lessons]\ntensorflow==2.15\n"},
     ["tensorflow: binder pins ==2.15, pyproject.toml wants tensorflow>=2.21,<2.22"]),
    ({"requirements_txt": "tensorflow>=2.22\nnumpy<1.26\njupyterlab\n"},
     ["tensorflow: binder pins >=2.22, pyproject.toml wants tensorflow>=2.21,<2.22",
      "numpy: binder pins <1.26, pyproject.toml wants numpy>=1.26,<3"]),
], ids=["postBuild", "postBuild-plain", "requirements-repo", "requirements-ranges", "no-extra", "wrong-path",
        "commented-out", "conflicting-pin", "disjoint-ranges"])
def test_the_coverage_check_catches_what_would_break(tmp_path: Path, files: dict[str, str],
                                                     problems: list[str]) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    binder = _binder(root, **files)
    assert uncovered(PROJECT, {"lessons"}, binder, root) == problems


def test_compatible_ranges() -> None:
    assert compatible(SpecifierSet(">=2.21,<2.22"), SpecifierSet("~=2.21.0"))
    assert compatible(SpecifierSet("<3"), SpecifierSet(""))
    assert not compatible(SpecifierSet(">=2.21,<2.22"), SpecifierSet(">=2.22"))
    assert not compatible(SpecifierSet(">2.21"), SpecifierSet("<=2.21"))
    assert compatible(SpecifierSet(">2.21"), SpecifierSet("<2.21.1"))
