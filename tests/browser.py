"""A real Jupyter server on 127.0.0.1 (JupyterLab 4 and Notebook 7 from the same server) driven by Playwright and
the system Chromium (no browser download).

Used by the browser tests: start ONE server per test module with a temporary configuration in a temporary folder
(:func:`jupyter_server`), open notebooks in either front end (:meth:`JupyterServer.url`), run them, and hand the
page to the test. Everything is cleaned up even when a test fails.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
TOKEN = "fapi-lab-test"


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def notebook(path: Path, sources: list[str]) -> Path:
    nb = {
        "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                   "source": src} for src in sources],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb))
    return path


# The two front ends one Jupyter server offers when both are installed: the page that opens a notebook.
FRONT_ENDS = {"lab": "lab/tree", "notebook": "notebooks"}  # JupyterLab 4, Jupyter Notebook 7
# Settings: no pop-ups on the page (a news toast would cover the bottom right of a notebook), and every cell in the
# page (Notebook 7 leaves cells out of view unrendered otherwise)
_SETTINGS = {"@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
             "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"}}


@dataclass
class JupyterServer:
    """A running server: ``url("lab" | "notebook", "x.ipynb")`` opens a notebook in JupyterLab or Notebook 7."""

    base: str
    root: Path

    def url(self, front_end: str, path: str) -> str:
        """JupyterLab starts with a fresh workspace (``reset``): no tab left open by an earlier page comes back."""
        reset = "&reset" if front_end == "lab" else ""
        return f"{self.base}/{FRONT_ENDS[front_end]}/{path}?token={TOKEN}{reset}"

    def api(self, method: str, path: str) -> Any:
        req = urllib.request.Request(f"{self.base}/api/{path}?token={TOKEN}", method=method)
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def stop_kernels(self) -> None:
        """Shut down every kernel (a test's notebook is done; the next starts with the memory free)."""
        for kernel in self.api("GET", "kernels") or []:
            with suppress(OSError):
                self.api("DELETE", f"kernels/{kernel['id']}")


@contextmanager
def jupyter_server(root: Path) -> Iterator[JupyterServer]:
    """Start a Jupyter server serving ``root`` (both front ends), with its configuration inside ``root``."""
    port = free_port()
    cfg = root / ".jupyter-config"
    cfg.mkdir(exist_ok=True)
    for name, value in _SETTINGS.items():
        target = cfg / "lab" / "user-settings" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(value))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(cfg), "JUPYTER_RUNTIME_DIR": str(cfg / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(cfg / "lab" / "user-settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(cfg / "lab" / "workspaces"), "FAPI_LAB_DATA": "standin"}
    jupyter = Path(sys.executable).with_name("jupyter")
    cmd = [str(jupyter), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           f"--ServerApp.token={TOKEN}", f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False",
           "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--LabApp.expose_app_in_browser=True", "--JupyterNotebookApp.expose_app_in_browser=True",
           "--allow-root"]
    log_path = cfg / "jupyter.log"
    log = log_path.open("w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Jupyter did not start:\n" + log_path.read_text()[-3000:]) from None
                time.sleep(0.5)
        yield JupyterServer(base, root)
    finally:  # the server and its kernels (one process group): asked to stop, then stopped
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        log.close()


@contextmanager
def jupyter_lab(root: Path, front_end: str = "lab") -> Iterator[str]:
    """One server for one front end: yields the URL of a notebook (``{path}``) with its token.

    ``front_end`` is ``"lab"`` (JupyterLab) or ``"notebook"`` (Jupyter Notebook 7, the same server). A module
    with several tests should share one :func:`jupyter_server` instead."""
    with jupyter_server(root) as server:
        yield server.url(front_end, "{path}")


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless system Chromium (Playwright's ``Browser``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def browser_page() -> Iterator[Any]:
    with chromium() as browser:
        yield browser.new_page(viewport={"width": 1280, "height": 1000})


@contextmanager
def new_page(browser: Any, **options: Any) -> Iterator[Any]:
    """A fresh page (its own context: downloads allowed) that records the page's JavaScript errors in
    ``page.errors``."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True, **options)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()


def run_all_cells(page: Any) -> None:
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.commands.hasCommand("
                           "'notebook:run-all-cells')", timeout=60_000)
    page.wait_for_function(
        "() => { const w = window.jupyterapp.shell.currentWidget;"
        " return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
        " && w.sessionContext.session.kernel.status === 'idle'; }", timeout=120_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def wait_for_file(path: Path, expected: str, timeout: float = 30) -> str:
    """Wait until ``path`` holds ``expected`` (what a kernel callback wrote); return what it holds in the end."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text() == expected:
            return expected
        time.sleep(0.1)
    return path.read_text() if path.exists() else "<nothing written>"
