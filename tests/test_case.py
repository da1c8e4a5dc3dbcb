import json
import re
import shutil
import sqlite3

import pytest

from crosswalk.case import export_case, import_case, standard_uuid
from crosswalk.cli import cli
from crosswalk.db import memory_db, open_db

from .conftest import validate_case


def test_demo_export_validates_and_round_trips(demo, tmp_path):
    path = tmp_path / "demo.db"
    shutil.copy(demo.path, path)  # the session's demo, with its reviewers' decisions
    db = open_db(path)
    package = export_case(db)
    validate_case(package)  # the official 1EdTech CASE 1.0 CFPackage schema
    decided = dict(db.execute("select strength, count(*) from alignments where status = 'accepted' "
                              "group by strength").fetchall())
    types = [a["associationType"] for a in package["CFAssociations"]]
    assert types.count("exactMatchOf") == decided["full"] > 0
    assert types.count("isRelatedTo") == decided["partial"] > 0
    assert db.execute("select count(*) from alignments where status = 'rejected'").fetchone()[0] > 0
    rationales = {r for r, in db.execute("select rationale from alignments where status = 'accepted' "
                                         "and strength = 'full' and rationale != ''")}
    exact = [json.loads(a["notes"])["rationale"] for a in package["CFAssociations"]
             if a["associationType"] == "exactMatchOf" and a.get("notes")]
    assert rationales and set(exact) == rationales
    assert export_case(db) == package  # deterministic
    path = tmp_path / "demo-case.json"
    path.write_text(json.dumps(package), encoding="utf-8")
    fresh = memory_db()
    results = import_case(fresh, path)
    assert len(results) == db["frameworks"].count
    # The reviewed alignments are not imported, and the import says so (once, for the package).
    warned = [w for r in results for w in r.warnings if "associations other than isChildOf" in w]
    assert warned == [f"associations other than isChildOf were not imported ({decided['full']} exactMatchOf, "
                      f"{decided['partial']} isRelatedTo): import-case reads standards and their hierarchy; "
                      "bring alignments in with crosswalk import-decisions"]

    def standards(d):
        return sorted(d.execute(
            "select f.name, f.kind, s.code, s.statement, p.code, s.grade_low, s.grade_high, s.subject, s.domain "
            "from standards s join frameworks f on f.id = s.framework_id left join standards p on p.id = s.parent_id "
            "where s.status = 'active'").fetchall(), key=repr)

    assert standards(fresh) == standards(db)
    # Importing the export and exporting again gives the same identifiers.
    assert [i["identifier"] for i in export_case(fresh, include_alignments=False)["CFItems"]] == [
        i["identifier"] for i in export_case(db, include_alignments=False)["CFItems"]]


def test_single_framework_export_and_identifiers(small_db):
    db = open_db(small_db)
    package = export_case(db, ["Welding"])
    validate_case(package)
    assert package["CFDocument"]["title"] == "Welding"
    item = next(i for i in package["CFItems"] if i["humanCodingScheme"] == "W.2")
    assert item["identifier"] == standard_uuid("Welding", "W.2")
    children = [a for a in package["CFAssociations"] if a["associationType"] == "isChildOf"]
    assert len(children) == 4
    with pytest.raises(Exception, match="no framework named 'Nope'"):
        export_case(db, ["Nope"])
    # A framework is found as every command finds one: in any case, or by id.
    assert export_case(db, ["welding"])["CFDocument"]["title"] == "Welding"
    welding_id = db.execute("select id from frameworks where name = 'Welding'").fetchone()[0]
    assert export_case(db, [str(welding_id)])["CFDocument"]["title"] == "Welding"


def test_the_schema_check_names_the_problem(small_db):
    with pytest.raises(AssertionError, match=r"CFDocument: 'identifier' is a required property"):
        validate_case({"CFDocument": {"uri": "urn:x", "creator": "a", "title": "t",
                                      "lastChangeDateTime": "2020-01-01T00:00:00+00:00"}})
    with pytest.raises(AssertionError, match="Additional properties"):
        validate_case({"CFDocument": {}, "Other": 1})
    # The fields the schema names in its additionalProperties, of their shape, and no others (read
    # as JSON Schema, that map allowed anything).
    package = export_case(open_db(small_db), ["Welding"])
    assert validate_case(package) is None
    item = package["CFItems"][0]
    for key, value, message in (("CFDocumentURI", "not a link", "CFItems[0].CFDocumentURI: 'not a link' is not of "
                                                                "type 'object'"),
                                ("bogus", 1, "CFItems[0].bogus: a field neither CASE 1.0's schema nor CASE 1.1 gives")):
        kept = item.get(key)
        item[key] = value
        with pytest.raises(AssertionError, match=re.escape(message)):
            validate_case(package)
        item.pop(key) if kept is None else item.__setitem__(key, kept)


OPENSALT_STYLE = {
    "CFDocument": {"identifier": "9f4c2a2e-1111-4a1a-8a1a-000000000001", "uri": "https://x/doc", "creator": "ME DOE",
                   "title": "Maine Math", "lastChangeDateTime": "2020-01-01T00:00:00+00:00", "subject": ["Math"],
                   "publisher": "Maine DOE", "version": "2020"},
    "CFItems": [
        {"identifier": "9f4c2a2e-1111-4a1a-8a1a-000000000002", "fullStatement": "Number and Quantity",
         "humanCodingScheme": "N", "CFItemType": "Domain", "uri": "https://x/2",
         "lastChangeDateTime": "2020-01-01T00:00:00+00:00"},
        {"identifier": "9f4c2a2e-1111-4a1a-8a1a-000000000003", "fullStatement": "Use units to understand problems.",
         "humanCodingScheme": "N-Q.1", "educationLevel": ["09", "10", "11", "12"], "uri": "https://x/3",
         "lastChangeDateTime": "2020-01-01T00:00:00+00:00"},
    ],
    "CFAssociations": [
        {"identifier": "9f4c2a2e-1111-4a1a-8a1a-000000000004", "associationType": "isChildOf", "uri": "https://x/4",
         "originNodeURI": {"title": "", "identifier": "9f4c2a2e-1111-4a1a-8a1a-000000000003", "uri": "https://x/3"},
         "destinationNodeURI": {"title": "", "identifier": "9f4c2a2e-1111-4a1a-8a1a-000000000002", "uri": "https://x/2"},
         "lastChangeDateTime": "2020-01-01T00:00:00+00:00"},
    ],
}


def test_import_case_cli(runner, tmp_path):
    path = tmp_path / "maine.json"
    path.write_text(json.dumps(OPENSALT_STYLE), encoding="utf-8")
    db_path = tmp_path / "c.db"
    result = runner.invoke(cli, ["import-case", str(db_path), str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        "Imported 2 standards into 'Maine Math' from maine.json: 2 added, 0 changed, 0 unchanged, 0 retired")
    db = open_db(db_path)
    assert db.execute("select s.code, p.code, s.grade_low, s.grade_high, s.level, s.subject from standards s "
                      "left join standards p on p.id = s.parent_id order by s.id").fetchall() == [
        ("N", None, None, None, "Domain", "Math"), ("N-Q.1", "N", 9, 12, None, "Math")]
    assert db.execute("select kind, publisher, version from frameworks").fetchone() == ("academic", "Maine DOE", "2020")
    result = runner.invoke(cli, ["import-case", str(db_path), str(path)])
    assert "0 added, 0 changed, 2 unchanged, 0 retired" in result.stdout
    # Items without a code (or sharing one) are known by their CASE identifiers, and the import says so.
    uncoded = json.loads(json.dumps(OPENSALT_STYLE))
    del uncoded["CFItems"][0]["humanCodingScheme"]
    path.write_text(json.dumps(uncoded), encoding="utf-8")
    result = runner.invoke(cli, ["import-case", str(tmp_path / "u.db"), str(path)])
    assert result.exit_code == 0, result.output
    assert "Note: CASE identifiers are the codes of 1 item without a humanCodingScheme" in result.stderr
    # A code written as a number is read as its digits.
    numbered = json.loads(json.dumps(OPENSALT_STYLE))
    numbered["CFItems"][0]["humanCodingScheme"] = 12
    path.write_text(json.dumps(numbered), encoding="utf-8")
    result = runner.invoke(cli, ["import-case", str(tmp_path / "n.db"), str(path)])
    assert result.exit_code == 0, result.output
    assert open_db(tmp_path / "n.db").execute("select count(*) from standards where code = '12'").fetchone()[0] == 1


@pytest.mark.parametrize("content,message", [
    ("{not json", "bad.json: is not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2"),
    ("[]", "bad.json: is not a CASE CFPackage (expected an object with a CFDocument)"),
    ('{"CFDocument": {"title": "T"}, "CFItems": [{"identifier": "x"}]}',
     "bad.json, column CFItems[0].fullStatement: has no fullStatement"),
    ('{"CFDocument": {"title": "T"}, "CFItems": []}', "bad.json, column CFItems: has no CFItems to import"),
    # Fields of the wrong type: named, not a traceback from SQLite or Python.
    ('{"CFDocument": {"title": "T"}, "CFItems": [{"identifier": "x", "fullStatement": "S", '
     '"CFItemType": {"title": "Standard"}}]}', "bad.json, column CFItems[0].CFItemType: is dict where text is expected"),
    ('{"CFDocument": {"title": "T", "subject": [{"title": "Math"}]}, "CFItems": [{"identifier": "x", '
     '"fullStatement": "S"}]}', "bad.json, column CFDocument.subject: is dict where text is expected"),
    ('{"CFDocument": {"title": ["A"]}, "CFItems": [{"identifier": "x", "fullStatement": "S"}]}',
     "bad.json, column CFDocument.title: is list where text is expected"),
    ('{"CFDocument": {"title": "T", "notes": "{\\"kind\\": \\"bogus\\"}"}, "CFItems": [{"identifier": "x", '
     '"fullStatement": "S"}]}', "bad.json, column notes: its framework's kind is 'bogus' (expected industry or academic)"),
    ('{"CFDocument": {"title": "T"}, "CFItems": [{"identifier": "x", "fullStatement": "S"}], "CFAssociations": '
     '[{"associationType": "isChildOf", "originNodeURI": {"identifier": ["x"]}, "destinationNodeURI": '
     '{"identifier": "y"}}]}', "bad.json, column CFAssociations[0]: isChildOf association without"),
])
def test_import_case_bad_input(runner, small_db, tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    before = small_db.read_bytes()
    result = runner.invoke(cli, ["import-case", str(small_db), str(path)])
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("Error: " + message), result.stderr
    assert small_db.read_bytes() == before


def test_a_case_file_not_in_utf8_names_the_line_and_column(runner, small_db, tmp_path):
    """An audit: 'is not UTF-8 text (byte 1414)' named no line or column, as every other error does."""
    path = tmp_path / "latin.json"
    path.write_bytes('{"CFDocument": {"title": "Métiers"},\n "CFItems": [{"identifier": "x", "fullStatement": "Café"}]}'
                     .encode("cp1252"))
    before = small_db.read_bytes()
    for command in ("import-case", "import-decisions"):
        result = runner.invoke(cli, [command, str(small_db), str(path)])
        assert (result.exit_code, result.stderr.strip()) == (
            1, "Error: latin.json: is not UTF-8 text at line 1, column 28 (save it as UTF-8; expected a "
               "CASE JSON package)"), command
    assert small_db.read_bytes() == before


def test_a_case_export_brings_its_reviewed_alignments_back_with_import_decisions(runner, small_db, tmp_path):
    """`export --format case` holds the reviewed alignments (exactMatchOf, isRelatedTo, their notes);
    import-case brings the frameworks back and said to bring the alignments with import-decisions,
    which refused the JSON ('use crosswalk import-case'): nothing decided came back."""
    from crosswalk.review import decide

    db = open_db(small_db)
    pairs = {(r["s"], r["t"]): r["id"] for r in db.query(
        "select a.id, s.code as s, t.code as t from alignments a join standards s on s.id = a.source_id "
        "join standards t on t.id = a.target_id")}
    decide(db, pairs[("W.1", "N-Q.1")], "accept", strength="full", rationale="Measures with units", reviewer="alice")
    decide(db, pairs[("W.4", "HS-PS3-4")], "accept", strength="partial", rationale="Heat transfer", reviewer="bob")
    db.execute("update alignments set reviewed_at = '2025-01-15T09:30:00+00:00' where id = ?",
               [pairs[("W.1", "N-Q.1")]])  # (decided last year)
    db.conn.commit()
    db.close()
    package = tmp_path / "crosswalk.json"
    assert runner.invoke(cli, ["export", str(small_db), str(package), "--format", "case"]).exit_code == 0
    fresh = tmp_path / "fresh.db"
    result = runner.invoke(cli, ["import-case", str(fresh), str(package)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["import-decisions", str(fresh), str(package)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Applied 2 decisions from crosswalk.json (2 new alignments)")
    got = sqlite3.connect(fresh).execute(
        "select s.code, t.code, a.status, a.strength, a.rationale, a.reviewer from alignments a "
        "join standards s on s.id = a.source_id join standards t on t.id = a.target_id order by s.code").fetchall()
    assert got == [("W.1", "N-Q.1", "accepted", "full", "Measures with units", "alice"),
                   ("W.4", "HS-PS3-4", "accepted", "partial", "Heat transfer", "bob")]
    when = "select reviewed_at from alignments where status = 'accepted' order by reviewed_at"
    assert sqlite3.connect(fresh).execute(when).fetchall() == sqlite3.connect(small_db).execute(when).fetchall()
    again = runner.invoke(cli, ["import-decisions", str(fresh), str(package)])
    assert again.exit_code == 0 and "Applied 0 decisions" in again.stdout and "2 already recorded" in again.stdout
    # Another tool's package: an end's title is a statement (its code is the CFItem's humanCodingScheme),
    # and an end outside the package is a code not found, the rest applied.
    other = json.loads(package.read_text(encoding="utf-8"))
    items = {i["identifier"]: i for i in other["CFItems"]}
    alignments = [a for a in other["CFAssociations"] if a["associationType"] in ("exactMatchOf", "isRelatedTo")]
    for a in alignments:
        for key in ("originNodeURI", "destinationNodeURI"):
            a[key]["title"] = items[a[key]["identifier"]]["fullStatement"]
        a["notes"] = "not JSON"
    alignments[0]["originNodeURI"] = {"identifier": "x-1", "uri": "https://other.example/uri/x-1"}
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps(other), encoding="utf-8")
    third = tmp_path / "third.db"
    assert runner.invoke(cli, ["import-case", str(third), str(package)]).exit_code == 0
    result = runner.invoke(cli, ["import-decisions", str(third), str(foreign)])
    assert result.exit_code == 0, result.output
    assert "Applied 1 decision" in result.stdout and "1 association with codes not in the database" in result.stdout
    assert "(x-1 → N-Q.1): no standard with code 'x-1'" in result.stderr


def test_a_case_export_says_what_it_leaves_out_and_dates_its_document_by_its_last_change(runner, small_db, tmp_path):
    # An audit: the CASE export left a decision to re-review out without a word (SSSOM and CSV say it),
    # and its CFDocument's lastChangeDateTime was the last import's, older than its own associations.
    from crosswalk.review import decide

    db = open_db(small_db)
    first, second = (r[0] for r in db.execute("select id from alignments order by id limit 2"))
    decide(db, first, "accept", strength="full", reviewer="alice")
    decide(db, second, "accept", strength="partial", reviewer="bob")
    db.execute("update alignments set needs_review = 1, needs_review_reason = 'the task changed' where id = ?", [second])
    db.execute("update alignments set reviewed_at = '2099-01-01T00:00:00+00:00' where id = ?", [first])
    db.conn.commit()
    db.close()
    package = tmp_path / "crosswalk.json"
    result = runner.invoke(cli, ["export", str(small_db), str(package), "--format", "case"])
    assert result.exit_code == 0
    assert result.stdout.rstrip().endswith("; 1 accepted alignment to re-review left out: it certifies nothing "
                                           "until decided again)"), result.stdout
    data = json.loads(package.read_text(encoding="utf-8"))
    assert data["CFDocument"]["lastChangeDateTime"] == "2099-01-01T00:00:00+00:00"
    # One framework's package counts what it would hold: the academic one has an end of the flagged one.
    result = runner.invoke(cli, ["export", str(small_db), str(tmp_path / "academic.json"), "--format", "case",
                                 "--framework", "Academic"])
    assert "1 accepted alignment to re-review left out" in result.stdout, result.stdout


def test_a_case_re_import_where_two_items_share_a_standards_code_is_refused_and_writes_nothing(
        runner, small_db, tmp_path):
    """The next edition's item of W.3 coded W.4 by mistake: both items were known by their CASE
    identifiers, so W.3 and W.4 were retired and came back as two new standards coded by UUID. The
    accepted decision on W.4, whose item had not changed, was flagged and certified nothing, and the
    import said only 'Note: CASE identifiers are the codes of 2 items that share one' (exit 0). A
    spreadsheet's duplicate code is an error that writes nothing; so is this."""
    from crosswalk.review import decide

    db = open_db(small_db)
    (w4,) = db.execute("select a.id from alignments a join standards s on s.id = a.source_id "
                       "where s.code = 'W.4' order by a.id limit 1").fetchone()
    decide(db, w4, "accept", strength="full", rationale="Heat transfer", reviewer="alice")
    db.conn.commit()
    db.close()
    package = tmp_path / "welding.json"
    assert runner.invoke(cli, ["export", str(small_db), str(package), "--format", "case",
                               "--framework", "Welding"]).exit_code == 0
    result = runner.invoke(cli, ["import-case", str(small_db), str(package)])
    assert result.exit_code == 0 and ": 0 added, 0 changed, 4 unchanged, 0 retired" in result.stdout, result.output
    edition = json.loads(package.read_text(encoding="utf-8"))
    index = {item["humanCodingScheme"]: n for n, item in enumerate(edition["CFItems"])}
    edition["CFItems"][index["W.3"]]["humanCodingScheme"] = "W.4"
    typo = tmp_path / "welding-2026.json"
    typo.write_text(json.dumps(edition), encoding="utf-8")

    def dump():
        connection = sqlite3.connect(small_db)
        try:
            return "\n".join(connection.iterdump())
        finally:
            connection.close()

    before, before_bytes = dump(), small_db.read_bytes()
    for dry_run in ([], ["--dry-run"]):
        result = runner.invoke(cli, ["import-case", str(small_db), str(typo), *dry_run])
        assert result.exit_code == 1, result.output
        assert result.stdout == ""
        assert result.stderr == (
            f"Error: welding-2026.json, column CFItems[{index['W.4']}].humanCodingScheme: duplicate code 'W.4' "
            f"(item {standard_uuid('Welding', 'W.4')}): it is also the humanCodingScheme of CFItems[{index['W.3']}] "
            f"(item {standard_uuid('Welding', 'W.3')}), and 'Welding' has a standard 'W.4' already, so the import "
            "can not tell which item it is (known by their CASE identifiers, they would be new standards, and 'W.4' "
            "would be left retired, its decisions flagged); nothing was written (correct the humanCodingScheme of "
            "the item that is not W.4, and import again)\n")
        assert dump() == before and small_db.read_bytes() == before_bytes
    assert sqlite3.connect(small_db).execute("select count(*) from current_alignments where id = ?",
                                             [w4]).fetchone() == (1,)

    # A first import has no standard to lose: items that share a code are known by their CASE
    # identifiers, as before, and a note says so. So are two items new to the framework that share one.
    result = runner.invoke(cli, ["import-case", str(tmp_path / "first.db"), str(typo)])
    assert result.exit_code == 0, result.output
    assert ": 4 added, 0 changed, 0 unchanged, 0 retired" in result.stdout
    assert "Note: CASE identifiers are the codes of 2 items that share one" in result.stderr
    new = json.loads(package.read_text(encoding="utf-8"))
    for n in (1, 2):
        new["CFItems"].append({**new["CFItems"][0], "identifier": f"00000000-0000-4000-8000-00000000000{n}",
                               "humanCodingScheme": "W.9", "fullStatement": f"Grind bevel {n}."})
    path = tmp_path / "welding-new.json"
    path.write_text(json.dumps(new), encoding="utf-8")
    result = runner.invoke(cli, ["import-case", str(small_db), str(path)])
    assert result.exit_code == 0, result.output
    assert ": 2 added, 0 changed, 4 unchanged, 0 retired" in result.stdout
    assert "Note: CASE identifiers are the codes of 2 items that share one" in result.stderr
