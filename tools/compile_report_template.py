"""Compile the Markdown report's template ahead (``affidavit.render.markdown.COMPILED``).

Run after changing ``render/templates/PRODUCTION_GO_EVIDENCE.md.j2``, ``render/markdown.py``,
``render/escape.py`` or the installed jinja2: until then the report is still right (the template is
compiled at run time, about 0.1 s), and ``tests/render/test_markdown_compiled.py`` fails.

Usage: ``python tools/compile_report_template.py``.
"""

from __future__ import annotations

from affidavit.render.markdown import COMPILED, write_compiled

if __name__ == "__main__":
    write_compiled()
    print(f"wrote src/affidavit/render/{COMPILED}")
