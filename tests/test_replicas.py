"""Beyond one machine (issue #13): two replicas on loopback behind Debian's nginx with deploy/nginx/autograd.conf
(cookie-sticky, websocket upgrade); a short load through it; one replica killed mid-test; the other keeps serving
its own sessions and takes over the dead one's browsers. Skipped where nginx is not installed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from benchmarks.load_test import program, run_async
from benchmarks.stclient import StreamlitClient
from tests.e2e.server import ROOT, StreamlitServer, free_port

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx)")


def _config(tmp: Path, port: int, a: int, b: int) -> Path:
    site = (ROOT / "deploy" / "nginx" / "autograd.conf").read_text()
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    site = site.replace("127.0.0.1:8501", f"127.0.0.1:{a}").replace("127.0.0.1:8502", f"127.0.0.1:{b}")
    (tmp / "autograd.conf").write_text(site)
    for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / d).mkdir(exist_ok=True)
    user = "user root;\n" if os.getuid() == 0 else ""
    main = f"""{user}daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    include {tmp}/autograd.conf;
}}
"""
    (tmp / "nginx.conf").write_text(main)
    return tmp / "nginx.conf"


def _get(url: str, cookie: str | None = None) -> tuple[str, str, str]:
    req = urllib.request.Request(url, headers={"Cookie": f"ae_replica={cookie}"} if cookie else {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read().decode(), r.headers.get("X-Replica", ""), " | ".join(r.headers.get_all("Set-Cookie") or [])


@pytest.fixture
def replicas(tmp_path: Path):
    (ROOT / "test-results").mkdir(exist_ok=True)
    a, b = StreamlitServer(), StreamlitServer()
    port = free_port()
    conf = _config(tmp_path, port, a.port, b.port)
    nginx = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        a.wait()
        b.wait()
        yield f"http://127.0.0.1:{port}", a, b
    finally:
        try:
            os.killpg(nginx.pid, signal.SIGTERM)
            nginx.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(nginx.pid, signal.SIGKILL)
        a.stop()
        b.stop()


def test_two_replicas_behind_nginx_survive_one_dying(replicas) -> None:  # noqa: ANN001
    url, a, b = replicas
    deadline = time.monotonic() + 20
    while True:
        try:
            body, _, set_cookie = _get(f"{url}/_stcore/health")
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    assert body.strip() == "ok" and "ae_replica=" in set_cookie  # a new browser gets its sticky cookie
    on: dict[str, list[str]] = {}
    for i in range(200):  # cookies that land on each replica (consistent hash of the cookie)
        replica = _get(f"{url}/_stcore/health", f"student{i}")[1]
        on.setdefault(replica, []).append(f"student{i}")
        if len(on) == 2 and all(len(v) >= 3 for v in on.values()):
            break
    assert sorted(on) == sorted([f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"]), on
    for cookies in on.values():  # sticky: the same cookie always reaches the same replica
        assert {_get(f"{url}/_stcore/health", cookies[0])[1] for _ in range(5)} == {_get(f"{url}/", cookies[0])[1]}
    on_a, on_b = on[f"127.0.0.1:{a.port}"][:3], on[f"127.0.0.1:{b.port}"][:3]

    async def scenario() -> None:
        clients = {c: StreamlitClient(url, {"Cookie": f"ae_replica={c}"}) for c in on_a + on_b}
        for k, (name, c) in enumerate(clients.items()):
            await c.connect()
            await c.run("playground")
            r = await c.run("playground", values={"pg_code": program(k, 0)}, click="pg_run")
            assert any(f" {100 * k}.0 " in t for t in r.texts), (name, r.texts)
        a.stop()  # replica A dies mid-class
        for k, name in enumerate(on_b):  # B's students go on in their own sessions, state intact
            c = clients[name]
            r = await c.run("playground", values={"pg_code": program(k + 3, 1)}, click="pg_run")
            assert r.status == "FINISHED_SUCCESSFULLY" and any(f" {100 * (k + 3) + 1}.0 " in t for t in r.texts)
        for k, name in enumerate(on_a):  # A's students reconnect (the browser does): nginx sends them to B
            await clients[name].close()
            c = StreamlitClient(url, {"Cookie": f"ae_replica={name}"})
            await c.connect()
            await c.run("playground")
            r = await c.run("playground", values={"pg_code": program(k + 10, 2)}, click="pg_run")
            assert r.status == "FINISHED_SUCCESSFULLY" and any(f" {100 * (k + 10) + 2}.0 " in t for t in r.texts)
            await c.close()
        for name in on_b:
            await clients[name].close()

    run_async(scenario)
    assert _get(f"{url}/_stcore/health", on_a[0])[1] == f"127.0.0.1:{b.port}"  # A's cookies now reach B
