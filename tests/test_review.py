import asyncio
import json
import re
import sqlite3
import threading

import openpyxl
import pytest
from datasette_auth_passwords.utils import hash_password

from crosswalk.cli import cli
from crosswalk.db import open_db
from crosswalk.errors import CrosswalkError, NotFound
from crosswalk.importer import import_file
from crosswalk.matching import match
from crosswalk.review import add_comment, decide
from crosswalk.review_site import make_review_datasette
from crosswalk.workbook import export_workbook, import_workbook

from .conftest import write_csv


def log_rows(path_or_db, alignment_id=None):
    conn = path_or_db.conn if hasattr(path_or_db, "conn") else sqlite3.connect(path_or_db)
    conn.row_factory = sqlite3.Row
    sql = "select * from review_log" + (" where alignment_id = ?" if alignment_id else "") + " order by id"
    return [dict(r) for r in conn.execute(sql, [alignment_id] if alignment_id else [])]


def first_ids(db, n=3):
    return [r[0] for r in db.execute("select id from alignments order by id limit ?", [n])]


def test_decide_writes_alignment_and_one_log_row(small_db):
    db = open_db(small_db)
    a, b = first_ids(db, 2)
    outcome = decide(db, a, "accept", strength="full", rationale="Measuring parts", reviewer="alice")
    assert outcome.changed
    row = db["alignments"].get(a)
    assert (row["status"], row["strength"], row["rationale"], row["reviewer"]) == ("accepted", "full", "Measuring parts", "alice")
    assert row["review_via"] is None  # consumed by the trigger
    [entry] = log_rows(db, a)
    assert entry["action"] == "accept"
    assert (entry["old_status"], entry["new_status"]) == ("suggested", "accepted")
    assert (entry["old_strength"], entry["new_strength"]) == (None, "full")
    assert (entry["old_rationale"], entry["new_rationale"]) == (None, "Measuring parts")
    assert (entry["reviewer"], entry["via"]) == ("alice", "cli")
    assert entry["at"] == row["reviewed_at"]

    # The same decision again changes nothing and logs nothing.
    assert not decide(db, a, "accept", reviewer="bob").changed
    assert len(log_rows(db, a)) == 1
    assert db["alignments"].get(a)["reviewer"] == "alice"

    # Changing the strength only keeps the rationale, and logs old and new.
    decide(db, a, "accept", strength="partial", reviewer="bob")
    entry = log_rows(db, a)[-1]
    assert (entry["action"], entry["old_strength"], entry["new_strength"], entry["reviewer"]) == (
        "set strength", "full", "partial", "bob")
    assert db["alignments"].get(a)["rationale"] == "Measuring parts"

    # Rejecting clears the strength; the log keeps what it was.
    decide(db, b, "reject", rationale="Not the same skill", reviewer="carol", via="test")
    entry = log_rows(db, b)[-1]
    assert (entry["action"], entry["new_status"], entry["via"], entry["new_strength"]) == ("reject", "rejected", "test", None)


def test_accepted_with_no_strength_is_full_and_certifies(small_db, runner, tmp_path):
    """Accepted with no strength given or held before, an alignment is full, whatever path decided
    it (here the command line and the review workbook): with none it was listed as evidence but
    certified nothing, since coverage counts a standard by its strength. A partial one stays partial
    when accepted again without a strength."""
    db = open_db(small_db)
    a, b, c = first_ids(db, 3)
    db.execute("insert into programs (name) values ('Welding Technology')")
    db.execute("insert into program_frameworks select 1, framework_id from standards where id = "
               "(select source_id from alignments where id = ?)", [a])
    db.conn.commit()
    db.close()
    assert runner.invoke(cli, ["decide", str(small_db), str(a), "accept", "--reviewer", "alice"]).exit_code == 0
    assert runner.invoke(cli, ["decide", str(small_db), str(b), "accept", "--strength", "partial",
                               "--reviewer", "alice"]).exit_code == 0
    assert runner.invoke(cli, ["decide", str(small_db), str(b), "accept", "--reviewer", "bob"]).exit_code == 0
    db = open_db(small_db)
    out = export_workbook(db, tmp_path / "r.xlsx").path
    wb = openpyxl.load_workbook(out)
    ws = wb["Suggestions"]
    header = {cell.value: cell.column for cell in ws[1]}
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, header["Alignment id"]).value == c)
    ws.cell(row, header["Decision"]).value = "accept"
    wb.save(out)
    import_workbook(db, out, reviewer="committee")
    assert db.execute("select id, status, strength from alignments where id in (?, ?, ?) order by id",
                      [a, b, c]).fetchall() == sorted([(a, "accepted", "full"), (b, "accepted", "partial"),
                                                       (c, "accepted", "full")])
    assert db.execute("select strength from program_evidence where alignment_id = ?", [a]).fetchone() == ("full",)


def test_decide_checks_its_values(small_db):
    db = open_db(small_db)
    a = first_ids(db, 1)[0]
    with pytest.raises(NotFound, match="there is no alignment with id 999"):
        decide(db, 999, "accept", reviewer="alice")
    with pytest.raises(NotFound, match="there is no alignment with id 99999999999999999999999"):
        decide(db, 99999999999999999999999, "accept", reviewer="alice")  # past SQLite's integers
    with pytest.raises(CrosswalkError, match="accept or reject, not 'maybe'"):
        decide(db, a, "maybe", reviewer="alice")
    with pytest.raises(CrosswalkError, match="full or partial, not 'medium'"):
        decide(db, a, "accept", strength="medium", reviewer="alice")
    with pytest.raises(CrosswalkError, match="only for accepted"):
        decide(db, a, "reject", strength="full", reviewer="alice")
    with pytest.raises(CrosswalkError, match="reviewer"):
        decide(db, a, "accept", reviewer="  ")
    assert log_rows(db) == []
    assert db["alignments"].get(a)["status"] == "suggested"


def test_any_update_is_logged_once_even_raw_sql(small_db):
    db = open_db(small_db)
    a = first_ids(db, 1)[0]
    db.execute("update alignments set status = 'accepted', strength = 'full' where id = ?", [a])
    db.conn.commit()
    [entry] = log_rows(db, a)
    assert (entry["action"], entry["via"], entry["reviewer"]) == ("accept", "sql", None)
    # Updating columns that are not a decision logs nothing.
    db.execute("update alignments set score = 50 where id = ?", [a])
    db.conn.commit()
    assert len(log_rows(db, a)) == 1


def test_review_log_is_append_only(small_db):
    db = open_db(small_db)
    a = first_ids(db, 1)[0]
    decide(db, a, "accept", reviewer="alice")
    add_comment(db, a, "Check with the math team", reviewer="bob")
    for sql in ("update review_log set reviewer = 'mallory'", "delete from review_log",
                "update review_comments set comment = 'x'", "delete from review_comments"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute(sql)
    with pytest.raises(sqlite3.DatabaseError, match="no alignment with this id"):
        db.execute("insert into review_comments (alignment_id, comment, reviewer, at) values (999, 'x', 'bob', 'now')")


def test_decision_clears_re_review_flag_and_logs_it(small_db):
    db = open_db(small_db)
    a = first_ids(db, 1)[0]
    decide(db, a, "accept", strength="full", rationale="ok", reviewer="alice")
    db.execute("update alignments set needs_review = 1, needs_review_reason = 'W.1 changed' where id = ?", [a])
    db.conn.commit()
    flag = log_rows(db, a)[-1]  # a flag is logged too (issue 16), though it is no decision
    assert (flag["action"], flag["reason"], flag["reviewer"], flag["via"]) == ("flag", "W.1 changed", None, "sql")
    outcome = decide(db, a, "accept", reviewer="bob")
    assert outcome.changed
    row = db["alignments"].get(a)
    assert (row["needs_review"], row["needs_review_reason"], row["reviewer"]) == (0, None, "bob")
    entry = log_rows(db, a)[-1]
    assert (entry["action"], entry["reviewer"], entry["old_status"], entry["new_status"]) == (
        "confirm", "bob", "accepted", "accepted")


def test_cli_decide_comment_history(runner, small_db):
    path = str(small_db)
    result = runner.invoke(cli, ["decide", path, "1", "accept", "--strength", "partial",
                                 "--rationale", "Layout uses metric units", "--reviewer", "alice"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Recorded: alignment 1 (W.1 → ")
    assert result.stdout.strip().endswith('is now accepted, partial, "Layout uses metric units" (was not decided yet)')
    result = runner.invoke(cli, ["decide", path, "1", "accept", "--reviewer", "alice"])
    assert result.stdout.startswith("No change: alignment 1")
    result = runner.invoke(cli, ["comment", path, "1", "Ask the math department", "--reviewer", "bob"])
    assert result.exit_code == 0 and result.stdout.strip() == "Comment added to alignment 1"
    result = runner.invoke(cli, ["history", path, "1"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Alignment 1: Welding W.1 → Academic ")
    assert lines[3].startswith('Now: accepted, partial, "Layout uses metric units" (by alice, ')
    assert lines[4] == "History (2 entries, oldest first):"
    assert "alice (cli)  accept: status suggested → accepted; strength (none) → partial; " \
           'rationale (none) → "Layout uses metric units"' in lines[5]
    assert lines[6].endswith("bob (cli)  commented: Ask the math department")
    data = json.loads(runner.invoke(cli, ["history", path, "1", "--json"]).stdout)
    assert [e["action"] for e in data["history"]] == ["accept", "comment"]
    # A rationale with an escape sequence (written through a canned query, which keeps what it is
    # given) is shown without it: a terminal would run it.
    conn = sqlite3.connect(path)
    conn.execute("update alignments set rationale = 'Metric\x1b[31m\x9b2J units' where id = 1")
    conn.commit()
    conn.close()
    shown = runner.invoke(cli, ["history", path, "1"]).stdout
    assert 'Now: accepted, partial, "Metric[31m2J units"' in shown and "\x1b" not in shown and "\x9b" not in shown
    assert data["alignment"]["status"] == "accepted"


@pytest.mark.parametrize("args,message", [
    (["decide", "{db}", "999", "accept", "--reviewer", "a"], "Error: there is no alignment with id 999"),
    (["decide", "{db}", "1", "reject", "--strength", "full", "--reviewer", "a"],
     "Error: a strength (full or partial) is only for accepted alignments"),
    (["history", "{db}", "999"], "Error: there is no alignment with id 999"),
    (["comment", "{db}", "1", "  ", "--reviewer", "a"], "Error: the comment is empty"),
])
def test_cli_errors_are_one_line(runner, small_db, args, message):
    result = runner.invoke(cli, [a.format(db=small_db) for a in args])
    assert result.exit_code == 1
    assert result.stderr.strip() == message
    assert "Traceback" not in result.output


def test_rematch_keeps_decisions_and_never_suggests_rejected_pairs(small_db):
    db = open_db(small_db)
    rows = list(db.query("select id, source_id, target_id from alignments where rank = 1 order by id"))
    accepted, rejected = rows[0], rows[1]
    decide(db, accepted["id"], "accept", strength="full", rationale="yes", reviewer="alice")
    decide(db, rejected["id"], "reject", rationale="no", reviewer="alice")
    before = {r["id"]: r for r in db.query("select * from alignments where status != 'suggested'")}
    log_before = log_rows(db)
    for _ in range(2):
        match(db, source="Welding", target="Academic", top=5, use_embeddings=False)
    after = {r["id"]: r for r in db.query("select * from alignments where status != 'suggested'")}
    assert after == before
    assert log_rows(db) == log_before
    pairs = db.execute("select count(*) from alignments where source_id = ? and target_id = ?",
                       [rejected["source_id"], rejected["target_id"]]).fetchone()[0]
    assert pairs == 1  # only the rejected row itself: never suggested again
    assert db.execute("select count(*) from alignments where status = 'suggested' and source_id = ? "
                      "and target_id = ?", [rejected["source_id"], rejected["target_id"]]).fetchone()[0] == 0


def test_match_while_decisions_are_written_loses_none(tmp_path):
    """A match and decisions (Python and the review site) write one database at once, each through its own
    connection as the CLI and the site do; SQLite's locks between connections are the same in one process
    as across processes, and a thread spares the start-up of a Python per match."""
    words = ("measure calculate weld joint angle heat metal energy report write explain read blueprint "
             "drawing safety units geometry transfer investigate describe cause inspect repair tool").split()
    industry = [["code", "statement"]] + [
        [f"T.{i}", " ".join(words[(i * k) % len(words)] for k in range(1, 9))] for i in range(150)]
    academic = [["code", "statement", "subject"]] + [
        [f"A.{i}", " ".join(words[(i * k + 3) % len(words)] for k in range(2, 10)), "Math"] for i in range(120)]
    path = tmp_path / "busy.db"
    db = open_db(path)
    import_file(db, write_csv(tmp_path / "ind.csv", industry), framework="Tasks", kind="industry")
    import_file(db, write_csv(tmp_path / "aca.csv", academic), framework="Academic", kind="academic")
    match(db, source="Tasks", target="Academic", top=5, use_embeddings=False)

    stop = threading.Event()
    errors = []

    runs = []

    def run_matches():  # match after match until the decisions are done
        while not stop.is_set():
            conn = open_db(path)
            try:
                match(conn, source="Tasks", target="Academic", top=5, use_embeddings=False)
            except Exception as exc:  # noqa: BLE001 (reported by the assert below)
                errors.append(repr(exc))
            finally:
                conn.close()
            runs.append(1)

    thread = threading.Thread(target=run_matches)
    thread.start()

    decided = {}  # (source_id, target_id) -> status
    ds = make_review_datasette(path, reviewers={"alice": {"name": "Alice",
                                                         "password_hash": hash_password("pw", iterations=1000)}})
    cookie = "ds_actor=" + ds.crosswalk_sessions.cookie(ds, {"id": "alice", "roles": ["reviewer"]})

    async def site_decide(alignment_id, row):
        page = await ds.client.get(f"/-/review/{alignment_id}", headers={"cookie": cookie})
        if page.status_code == 404:
            return {"ok": False, "message": "replaced by match a moment ago"}
        token = page.cookies.get("ds_csrftoken")
        field = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)
        response = await ds.client.post("/busy/review_alignment", data={
            "alignment_id": str(alignment_id), "source_id": str(row[1]), "target_id": str(row[2]),
            "decision": "reject", "strength": "", "rationale": "site", "csrftoken": field, "_json": "1"},
            headers={"cookie": f"{cookie}; ds_csrftoken={token}"})
        return response.json()

    i = 0
    try:
        while thread.is_alive() and i < 400 and (len(decided) < 15 or len(runs) < 3):
            conn = open_db(path)
            row = conn.execute("select id, source_id, target_id from alignments where status = 'suggested' "
                               "order by random() limit 1").fetchone()
            if i % 3 == 0:
                page_ok = asyncio.run(site_decide(row[0], row))
                if page_ok["ok"] and "1 row affected" in page_ok["message"]:
                    decided[(row[1], row[2])] = "rejected"
                else:
                    assert "locked" not in page_ok["message"]
            else:
                try:
                    outcome = decide(conn, row[0], "accept", strength="full", reviewer="bob")
                    decided[(outcome.alignment["source_id"], outcome.alignment["target_id"])] = "accepted"
                except NotFound:
                    pass  # match replaced this suggestion a moment ago: nothing was decided
            conn.close()
            i += 1
    finally:
        stop.set()
        thread.join(120)
    assert errors == []
    assert len(decided) >= 15 and len(runs) >= 3
    final = open_db(path)
    for (source_id, target_id), status in decided.items():
        rows = final.execute("select status from alignments where source_id = ? and target_id = ?",
                             [source_id, target_id]).fetchall()
        assert rows == [(status,)]
    assert final.execute("select count(*) from review_log").fetchone()[0] == len(decided)


def test_a_decision_from_a_page_left_open_does_not_overwrite_one_made_since(small_db):
    """`seen` (what the page showed: review.seen_token) refuses a decision where someone decided the
    alignment after the page was shown, unless it changes nothing; without it (the command line), the
    latest decision wins, as before."""
    from crosswalk.review import LAST_CHANGE, Changed, seen_token

    db = open_db(small_db)
    a = first_ids(db, 1)[0]
    shown = seen_token("suggested", None)  # both reviewers open the page while it awaits review
    decide(db, a, "accept", rationale="Bob: measuring", reviewer="bob", seen=shown)
    with pytest.raises(Changed) as info:
        decide(db, a, "reject", rationale="Alice: not math", reviewer="alice", seen=shown)
    assert re.search(r"alignment \d+ \(W.1 → [^)]+\) was changed by bob after this page was shown: it is now "
                     r'accepted, full, "Bob: measuring"\. Nothing was saved', str(info.value))
    assert decide(db, a, "accept", reviewer="alice", seen=shown).changed is False  # the same: no change, no refusal
    row = db.execute("select status, rationale, reviewer, reviewed_at from alignments where id = ?", [a]).fetchone()
    assert row[:3] == ("accepted", "Bob: measuring", "bob")
    # From the page as it is now (its last change logged), the decision goes through.
    now = seen_token("accepted", db.execute(LAST_CHANGE, [a]).fetchone()[0])
    assert decide(db, a, "reject", rationale="Alice: not math", reviewer="alice", seen=now).changed
    # Bob again within the same second, from the page Alice's decision was made on: refused (by the
    # second, as before, it went through: the time of the decision was all the page said).
    with pytest.raises(Changed):
        decide(db, a, "accept", strength="partial", reviewer="bob", seen=now)


def test_turning_a_decision_round_without_a_rationale_clears_the_old_one(small_db):
    """The old rationale gave the reasons for the other decision: a rejection's "not math" is not kept as
    an acceptance's rationale. The same decision again (a new strength) keeps it; a long text is refused."""
    db = open_db(small_db)
    a = first_ids(db, 1)[0]

    def state():
        return db.execute("select status, strength, rationale from alignments where id = ?", [a]).fetchone()

    decide(db, a, "reject", rationale="Not math", reviewer="bob")
    decide(db, a, "accept", strength="partial", reviewer="alice")
    assert tuple(state()) == ("accepted", "partial", None)
    decide(db, a, "accept", rationale="Measuring", reviewer="alice")
    decide(db, a, "accept", strength="full", reviewer="alice")
    assert tuple(state()) == ("accepted", "full", "Measuring")
    with pytest.raises(CrosswalkError, match="the rationale is 40,000 characters long; at most 32,767"):
        decide(db, a, "reject", rationale="x" * 40_000, reviewer="alice")


def test_a_strength_word_reads_the_same_in_a_strength_cell_and_a_decision_cell():
    """'some' was read as a strength but refused as a decision, 'related' (a CASE association's
    word) the other way round."""
    from crosswalk.review import normalise_strength, read_decision

    for word, strength in (("some", "partial"), ("Related", "partial"), ("is related to", "partial"),
                           ("Exact match", "full"), ("moderate", "partial"), ("STRONG", "full")):
        assert normalise_strength(word) == strength, word
        assert read_decision(word) == ("accept", strength), word
