"""Write examples/welding-tasks.xlsx, the task list the README's tour imports.

A small program task list laid out as real ones are: title rows above the header, a merged title
cell, a notes row, a duty-area column whose cells are merged down each duty, hours and notes
columns the importer does not need. The tasks were written by the crosswalk developers for the tour;
the school is fictional.

    python examples/make_welding_tasks.py
"""

import pathlib

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill

DUTIES = [
    ("A. Safety and shop practices", [
        ("A.1", "Inspect personal protective equipment (helmet, gloves, jacket, safety glasses) and wear it correctly for each welding and cutting process.", 6, ""),
        ("A.2", "Identify fire hazards in the work area and set up a fire watch and extinguisher before hot work.", 3, ""),
        ("A.3", "Read a safety data sheet to find the hazards of fumes from base metals, coatings and filler metals, and position ventilation to control them.", 4, ""),
        ("A.4", "Inspect oxygen and fuel gas cylinders, regulators and hoses, and store and secure cylinders as the shop rules require.", 3, ""),
        ("A.5", "Lock out and tag out equipment before maintenance.", 2, "Required for the program certificate"),
    ]),
    ("B. Drawings, symbols and layout", [
        ("B.1", "Interpret welding symbols on a print to determine the weld type, size, length and location.", 10, ""),
        ("B.2", "Calculate the length of material needed for each part from a drawing's dimensions, allowing for the kerf of each cut, and make a cut list.", 8, ""),
        ("B.3", "Lay out parts on plate with a square, tape measure and soapstone to a tolerance of 1/16 inch.", 6, ""),
        ("B.4", "Convert measurements between fractions, decimals and metric units when reading prints.", 4, ""),
        ("B.5", "Estimate the filler metal and shielding gas a job will use from the weld size and length.", 4, ""),
    ]),
    ("C. Thermal cutting", [
        ("C.1", "Set up an oxyfuel cutting outfit, light and adjust a neutral flame, and shut it down in the correct order.", 6, ""),
        ("C.2", "Make straight and bevel cuts in carbon steel plate with an oxyfuel torch.", 8, ""),
        ("C.3", "Set up a plasma arc cutting system and cut carbon steel, stainless steel and aluminum to a layout line.", 6, ""),
        ("C.4", "Adjust amperage and travel speed to reduce dross, and explain the effect of each on the cut.", 3, ""),
    ]),
    ("D. Shielded metal arc welding (SMAW)", [
        ("D.1", "Select an electrode by its AWS classification for the base metal, welding position and current.", 3, ""),
        ("D.2", "Set up an SMAW machine for the electrode's polarity and amperage range.", 3, ""),
        ("D.3", "Make fillet welds on carbon steel plate in the flat, horizontal and vertical positions.", 30, ""),
        ("D.4", "Make groove welds with backing on carbon steel plate that pass a guided bend test.", 30, "Required for the program certificate"),
    ]),
    ("E. Gas metal and flux cored arc welding (GMAW, FCAW)", [
        ("E.1", "Set up a GMAW machine: install the wire, set drive roll tension, select the shielding gas and set its flow rate.", 4, ""),
        ("E.2", "Adjust voltage and wire feed speed to obtain short-circuit and spray transfer.", 6, ""),
        ("E.3", "Make fillet and groove welds with GMAW on carbon steel in all positions.", 30, ""),
        ("E.4", "Make fillet welds with FCAW and remove slag between passes.", 15, ""),
    ]),
    ("F. Gas tungsten arc welding (GTAW)", [
        ("F.1", "Prepare and grind a tungsten electrode for the base metal and current.", 2, ""),
        ("F.2", "Make fillet welds with GTAW on aluminum and stainless steel sheet.", 20, ""),
    ]),
    ("G. Inspection, testing and quality", [
        ("G.1", "Inspect welds visually for size, undercut, porosity, cracks and overlap, using weld gauges.", 6, ""),
        ("G.2", "Cut, bend and evaluate test coupons against the acceptance criteria of a welding code.", 6, ""),
        ("G.3", "Calculate the cost of a weldment from its material, consumables and labor time.", 4, ""),
        ("G.4", "Record the welding parameters used on a job on a procedure record.", 2, ""),
        ("G.5", "Explain how heat input causes distortion, and use tack sequence and clamping to control it.", 4, ""),
    ]),
    ("H. Employability", [
        ("H.1", "Communicate with a supervisor and co-workers about job instructions, problems and progress.", 2, ""),
        ("H.2", "Plan the sequence of work for a job and estimate the time it will take.", 3, ""),
    ]),
]


def build(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tasks"
    ws["A1"] = "Riverbend Regional Technical Center (fictional): Welding Technology, CIP 48.0508"
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells("A1:E1")
    ws["A2"] = "Program task list, 2025-2026. Revised by the program advisory committee; hours are approximate."
    ws["A2"].font = Font(italic=True)
    ws.merge_cells("A2:E2")
    header = ["Task ID", "Duty area", "Task", "Hours", "Notes"]
    ws.append([])
    ws.append(header)
    for cell in ws[4]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="17445F")
    for duty, tasks in DUTIES:
        first = ws.max_row + 1
        for code, task, hours, note in tasks:
            ws.append([code, duty, task, hours, note or None])
        if len(tasks) > 1:
            ws.merge_cells(start_row=first, start_column=2, end_row=ws.max_row, end_column=2)
        ws.cell(first, 2).alignment = Alignment(vertical="top", wrap_text=True)
    for letter, width in zip("ABCDE", (9, 24, 80, 7, 30)):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=5, min_col=3, max_col=3):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A5"
    wb.save(path)


if __name__ == "__main__":
    build(pathlib.Path(__file__).resolve().parent / "welding-tasks.xlsx")
