from crosswalk.importer import import_file
from crosswalk.matching import Decision, Doc, match, rank_candidates
from crosswalk.text import strip_boilerplate, terms



def test_boilerplate_and_stems():
    assert strip_boilerplate("1.2 Students will be able to measure angles.") == "measure angles."
    assert terms("Students will measure angles using a protractor.") == ["measur", "angl", "protractor"]


def test_suggestions_rank_the_related_standard_first(db, welding_xlsx, academic_csv):
    import_file(db, welding_xlsx, framework="Welding", kind="industry")
    import_file(db, academic_csv, framework="Academic", kind="academic")
    result = match(db, source="Welding", target="Academic", top=2, use_embeddings=False)
    assert (result.sources, result.targets, result.suggested) == (4, 5, 8)
    best = dict(db.execute(
        "select s.code, t.code from alignments a join standards s on s.id = a.source_id "
        "join standards t on t.id = a.target_id where a.rank = 1").fetchall())
    assert best == {"W.1": "N-Q.1", "W.2": "G-MG.1", "W.3": "W.9-10.2", "W.4": "HS-PS3-4"}
    evidence = db.execute(
        "select evidence, score from alignments a join standards s on s.id = a.source_id "
        "where s.code = 'W.4' and a.rank = 1").fetchone()
    assert evidence[0].startswith("shared terms: heat, energy, transfers")
    assert 0 < evidence[1] <= 100


def test_grade_restriction(db, welding_xlsx, academic_csv):
    import_file(db, welding_xlsx, framework="Welding", kind="industry")
    import_file(db, academic_csv, framework="Academic", kind="academic")
    result = match(db, source="Welding", target="Academic", top=5, grade="9-12", use_embeddings=False)
    assert result.targets == 4  # 3.OA.1 is grade 3
    assert db.execute("select count(*) from alignments a join standards t on t.id = a.target_id "
                      "where t.code = '3.OA.1'").fetchone()[0] == 0


def test_rematch_keeps_decisions_and_never_resuggests_rejected(db, welding_xlsx, academic_csv):
    import_file(db, welding_xlsx, framework="Welding", kind="industry")
    import_file(db, academic_csv, framework="Academic", kind="academic")
    match(db, source="Welding", target="Academic", top=3, use_embeddings=False)
    rows = db.execute("select id, source_id, target_id from alignments where rank = 1 order by id").fetchall()
    accepted, rejected = rows[0], rows[1]
    db.execute("update alignments set status='accepted', strength='full', rationale='measuring' where id=?", [accepted[0]])
    db.execute("update alignments set status='rejected' where id=?", [rejected[0]])
    match(db, source="Welding", target="Academic", top=3, use_embeddings=False)
    assert db.execute("select status, strength, rationale from alignments where id=?", [accepted[0]]).fetchone() == (
        "accepted", "full", "measuring")
    assert db.execute("select status from alignments where source_id=? and target_id=?",
                      rejected[1:]).fetchall() == [("rejected",)]


def test_warm_mode_learns_from_accepted_decisions():
    targets = [Doc(1, "N-Q.1", "Reason quantitatively and use units to solve problems."),
               Doc(2, "W.2", "Write informative and explanatory texts.")]
    sources = [Doc(10, "T1", "Convert recipe yields for a larger batch.")]
    cold = rank_candidates(sources, targets, top=2)
    decisions = [Decision("Scale recipe yields up or down for a batch.", 1, True, "T0", 9)]
    warm = rank_candidates(sources, targets, top=2, decisions=decisions)
    assert warm[0][0].target_key == 1
    assert warm[0][0].score > cold[0][0].score
    assert "already aligned to it: T0" in warm[0][0].evidence


def test_rejected_text_is_never_suggested():
    targets = [Doc(1, "A", "measure angles"), Doc(2, "B", "write reports")]
    sources = [Doc(10, "T1", "measure angles of joints")]
    decisions = [Decision("measure angles of joints", 1, False, "T1", 10)]
    result = rank_candidates(sources, targets, top=2, decisions=decisions)
    assert [c.target_key for c in result[0]] == [2]
