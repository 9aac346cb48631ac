"""The class report as one HTML page that works offline: styles and pictures (SVG) inline, no script, no links out.

A pure function of :class:`~fapi_lab._report.ClassReport`: per task, how many passed; the problems, most common
first, each with its code, how many students' answers had it, a typical message in a student's own terms and
that student's model drawn with the problem's layers marked.
"""

from __future__ import annotations

import html

from ._report import ClassReport, ProblemCount, TaskCount

__all__ = ["render"]

_SCORING = ("A passing answer gets all of a task's points; each problem the check finds takes a third of them off, "
            "down to a third; an answer that is missing, is not the kind of thing the task asks for, raises an "
            "error or runs too long gets 0. Problems the autograder's hidden probes find are coded "
            "<code>hidden:…</code>.")

_STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 24px auto;
       max-width: 1100px; padding: 0 16px; color: #0f172a; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0; } h2 { margin-top: 1.6em; border-bottom: 1px solid #e2e8f0; }
.sub { color: #475569; margin-top: 4px; }
table { border-collapse: collapse; width: 100%; } th, td { padding: 6px 8px; border-bottom: 1px solid #e2e8f0;
       text-align: left; vertical-align: middle; } th { background: #f8fafc; }
.bar { background: #e2e8f0; border-radius: 3px; height: 12px; width: 160px; display: inline-block;
       vertical-align: middle; margin-right: 6px; } .bar > span { background: #16a34a; display: block; height: 12px;
       border-radius: 3px; }
.problem { border: 1px solid #e2e8f0; border-left: 5px solid #b91c1c; border-radius: 4px; padding: 8px 14px;
       margin: 12px 0; } .problem.zero { border-left-color: #b45309; }
.count { font-size: 1.15em; font-weight: 600; } code { background: #f1f5f9; padding: 1px 4px; border-radius: 3px; }
.message { margin: 6px 0; } figure { margin: 6px 0 0 0; max-height: 540px; overflow: auto; }
figcaption { color: #475569; font-style: italic; font-size: 0.9em; } svg { max-width: 100%; height: auto; }
.notes { color: #92400e; }
"""

_ZERO = ("not-answered", "not-defined", "wrong-kind", "raised", "timeout")


def _task_row(task: TaskCount) -> str:
    share = task.passed / task.graded if task.graded else 0.0
    return (f"<tr><td><code>{html.escape(task.exercise)}</code></td><td>{html.escape(task.title)}</td>"
            f"<td><span class='bar'><span style='width:{100 * share:.0f}%'></span></span>{task.passed} of "
            f"{task.graded}</td><td>{task.mean:g} of {task.points:g}</td></tr>")


def _problem(problem: ProblemCount, students: int) -> str:
    family = problem.code.split("/", 1)[-1].split(":", 1)[0]
    zero = " zero" if family in _ZERO else ""
    many = problem.students
    picture = (f"<figure>{problem.picture}<figcaption>a typical answer with this problem: the layers it is "
               f"about in red</figcaption></figure>") if problem.picture else ""
    return (f"<section class='problem{zero}'><div><span class='count'>{many} of {students} student"
            f"{'s' * (students != 1)}</span> · <code>{html.escape(problem.code)}</code></div>"
            f"<div class='message'>For example: “{html.escape(problem.message)}”</div>{picture}</section>")


def render(report: ClassReport) -> str:
    """The report page."""
    title = f"Class report: {report.course_id}"
    sets = ", ".join(report.assignments) or "none"
    rows = "".join(_task_row(t) for t in report.tasks)
    problems = "".join(_problem(p, report.students) for p in report.problems) or "<p>No problems: every answer " \
                                                                                 "passed.</p>"
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p class='sub'>Assignments: {html.escape(sets)} · {report.students} "
            f"student{'s' * (report.students != 1)} graded · made by <code>fapi-lab report</code> from nbgrader's "
            f"gradebook and the autograded notebooks. No student is named here.</p>"
            + (f"<ul class='notes'>{notes}</ul>" if notes else "")
            + f"<h2>Per task</h2><table><thead><tr><th>task</th><th>what it asks</th><th>full points</th>"
            f"<th>mean score</th></tr></thead><tbody>{rows}</tbody></table>"
            f"<h2>The most common problems</h2><p class='sub'>Each problem has a stable code (the task, then the kind "
            f"of problem), the same in every run and for every student, so they can be counted. {_SCORING}</p>"
            f"{problems}</body></html>\n")
