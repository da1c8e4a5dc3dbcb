"""Rebuild the demo data in data/ from the public datasets it is derived from.

Maintainers run this once when the sources change; users never need to:

    python data/build_demo_data.py PATH/TO/datasets

PATH/TO/datasets holds the folders ccss/, ngss/, onet-29.3/, cip2020-soc2018/
and perkins-iv-career-clusters/ as described in data/README.md. Every output
row is copied mechanically from those files; nothing is written by hand
except the choice of programs below and the Career Cluster of two programs
whose occupations are newer than the 2007 Perkins table (marked below).
"""

import collections
import csv
import pathlib
import sys

import openpyxl

# The demo's CTE programs: CIP 2020 code → the program name a CTE centre uses.
PROGRAMS = {
    "48.0508": "Welding Technology",
    "47.0604": "Automotive Technology",
    "12.0503": "Culinary Arts",
    "48.0501": "Machine Tool Technology",
    "11.1006": "Computer Support (IT)",
    "46.0201": "Carpentry",
    "46.0302": "Electrical Technology",
    "51.3902": "Nursing Assistant",
}
# Occupations created after 2007 are not in the Perkins table; their cluster by hand.
CLUSTER_BY_HAND = {
    "11.1006": "Information Technology Career Cluster",
    "51.3902": "Health Science Career Cluster",
}


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    print(f"{path}: {len(rows)} rows")


def main(src: pathlib.Path, out: pathlib.Path) -> None:
    # --- academic: CCSS math
    math = list(csv.DictReader(open(src / "ccss/ccss_math_standards.csv", encoding="utf-8")))
    # The source gives the eight Standards for Mathematical Practice the guid of their group as
    # parent_guid, and MP1 that same guid as its own: it names the group (not in the file), not MP1,
    # which would otherwise be its own parent and the other seven's.
    groups = {r["guid"] for r in math if r["guid"] and r["guid"] == r["parent_guid"]}
    guid_to_code = {r["guid"]: r["short_code"] for r in math if r["guid"] and r["guid"] not in groups}
    rows = []
    for r in math:
        grade = r["grade"].replace("09,10,11,12", "9-12")
        # MP8's text runs on into the next section of the source document ("Connecting the Standards
        # for Mathematical Practice to the Standards for Mathematical Content", three paragraphs that
        # are no part of MP8): cut at its heading.
        text = r["text"].split("\n\nConnecting the Standards for Mathematical Practice")[0]
        # The practices have no domain or conceptual category: their group is their domain, as a
        # report and the site list standards by domain (they were "(no domain)").
        domain = r["domain"] or r["conceptual_category"] or (
            r["cluster"] if r["cluster"] == "Standards for Mathematical Practice" else "")
        rows.append([r["short_code"], text, grade, "Math", domain,
                     r["cluster"], guid_to_code.get(r["parent_guid"], ""), r["level"], r["uri"]])
    write_csv(out / "ccss_math.csv",
              ["code", "statement", "grade", "subject", "domain", "cluster", "parent", "level", "uri"], rows)
    # --- academic: CCSS ELA/literacy
    ela = list(csv.DictReader(open(src / "ccss/ccss_ela_standards.csv", encoding="utf-8")))
    guid_to_code = {r["guid"]: r["short_code"] for r in ela if r["guid"]}
    rows = []
    for r in ela:
        rows.append([r["short_code"], r["text"], r["grade"], "ELA", r["strand"], r["cluster"],
                     guid_to_code.get(r["parent_guid"], ""), r["level"], r["uri"]])
    write_csv(out / "ccss_ela.csv",
              ["code", "statement", "grade", "subject", "domain", "cluster", "parent", "level", "uri"], rows)
    # --- academic: NGSS
    ngss = list(csv.DictReader(open(src / "ngss/ngss_performance_expectations.csv", encoding="utf-8")))
    rows = [[r["code"], r["text"], r["grade_levels"], "Science", r["parent_topic"],
             r["clarification_statement"], r["assessment_boundary"], r["asn_uri"]] for r in ngss]
    write_csv(out / "ngss.csv", ["code", "statement", "grade", "subject", "domain",
                                 "clarification", "assessment_boundary", "uri"], rows)
    # --- programs: CIP definitions, occupations through CIP→SOC, clusters through Perkins IV
    cip = {}
    for r in csv.DictReader(open(src / "cip2020-soc2018/CIPCode2020.csv", encoding="utf-8-sig")):
        code = r["CIPCode"].strip('="')
        cip[code] = r
    soc_by_cip = collections.defaultdict(list)
    for r in csv.DictReader(open(src / "cip2020-soc2018/CIP2020_SOC2018_Crosswalk.csv", encoding="utf-8-sig")):
        soc_by_cip[r["CIP2020Code"]].append(r["SOC2018Code"])
    cluster_by_soc = {}
    for r in csv.DictReader(open(src / "perkins-iv-career-clusters/onet_to_career_pathway.csv", encoding="utf-8")):
        # A SOC code's own occupation (the .00 row) decides; its specialties may sit elsewhere.
        if r["onet_soc_code"].endswith(".00") or r["onet_soc_code"][:7] not in cluster_by_soc:
            cluster_by_soc[r["onet_soc_code"][:7]] = r["cluster"]
    workbook = openpyxl.load_workbook(src / "onet-29.3/Task Statements.xlsx", read_only=True)
    task_rows = list(workbook.active.iter_rows(values_only=True))[1:]
    workbook.close()
    tasks_by_soc = collections.defaultdict(list)
    for soc_code, title, task_id, task, task_type, *_ in task_rows:
        tasks_by_soc[soc_code[:7]].append((soc_code, title, task_id, task, task_type or ""))
    program_rows = []
    for code, name in PROGRAMS.items():
        socs = soc_by_cip[code]
        votes = collections.Counter(cluster_by_soc[s] for s in socs if s in cluster_by_soc)
        cluster = CLUSTER_BY_HAND.get(code) or votes.most_common(1)[0][0]
        slug = name.lower().replace(" ", "-").replace("(", "").replace(")", "")
        framework = f"{name} tasks (O*NET 29.3)"
        program_rows.append([name, code, cip[code]["CIPTitle"].rstrip("."), cluster,
                             cip[code]["CIPDefinition"], framework, f"industry/{slug}.csv",
                             " ".join(socs)])
        rows = []
        seen = set()
        for soc in socs:
            for soc_code, title, task_id, task, task_type in tasks_by_soc[soc]:
                if task_id in seen:
                    continue
                seen.add(task_id)
                rows.append([str(task_id), task, soc_code, title, task_type])
        write_csv(out / "industry" / f"{slug}.csv",
                  ["Task ID", "Task", "O*NET-SOC Code", "Occupation", "Task Type"], rows)
    write_csv(out / "programs.csv", ["name", "cip_code", "cip_title", "career_cluster", "description",
                                     "framework", "file", "soc_codes"], program_rows)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(pathlib.Path(sys.argv[1]), pathlib.Path(__file__).parent)
