import asyncio
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from crosswalk.db import open_db
from crosswalk.programs import add_program
from crosswalk.site import make_datasette


def accept_first(path):
    db = open_db(path)
    add_program(db, "Welding Technology", cip_code="48.0508", frameworks=["Welding"])
    db.execute("update alignments set status = 'accepted', strength = 'full', rationale = 'measuring' "
               "where id = (select min(id) from alignments where rank = 1)")
    db.conn.commit()
    return db


def test_datasette_pages_show_labels_and_views(small_db):
    accept_first(small_db).close()
    ds = make_datasette(small_db)

    async def get(path):
        return await ds.client.get(path)

    async def run():
        home = await get("/")
        assert home.status_code == 200 and "O*NET 29.3 Database" in home.text
        standards = await get("/small/standards.json?_shape=array&code=W.1")
        assert standards.json()[0]["label"].startswith("W.1: Measure and calculate")
        alignments = await get("/small/alignments?status=accepted")
        assert "W.1: Measure and calculate the dimensions" in alignments.text  # a label, not a bare id
        certifies = await get("/small/program_certifies.json?_shape=array")
        assert certifies.json()[0]["program"] == "Welding Technology"
        assert certifies.json()[0]["strength"] == "full"
        search = await get("/small/standards.json?_search=measuring&_shape=array")
        assert sorted(r["code"] for r in search.json()) == ["N-Q.1", "W.1"]  # stemmed: measuring finds measure
    asyncio.run(run())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_real_server_over_http(small_db):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "crosswalk.cli", "serve", str(small_db), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 30
        while True:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/small/frameworks", timeout=2).read().decode()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    pytest.fail(proc.stderr.read().decode() if proc.poll() is not None else "server did not start")
                time.sleep(0.3)
        assert "Welding" in body and "Academic" in body
        assert "One row per imported standards document" in body
    finally:
        proc.terminate()
        proc.wait(10)
