"""Writes a benchmark's Markdown into its section of a doc, between
<!-- BEGIN name --> and <!-- END name --> markers, leaving the rest alone."""
import json
import os
import re

DOCS = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs"))


def update(doc, name, text):
    path = os.path.join(DOCS, doc)
    with open(path) as f:
        s = f.read()
    begin, end = "<!-- BEGIN %s -->" % name, "<!-- END %s -->" % name
    if begin not in s or end not in s:
        raise SystemExit("%s has no %s section" % (path, name))
    s = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda m: begin + "\n" + text.rstrip() + "\n" + end, s,
               flags=re.S)
    with open(path, "w") as f:
        f.write(s)
    print("updated %s (%s)" % (path, name))


def publish(result, json_path, doc, sections, write_docs):
    """A benchmark's end: the raw result as JSON (if asked), each section's Markdown
    printed, and written into the doc with --markdown. sections: [(name, text)]."""
    if json_path:
        with open(json_path, "w") as f:
            json.dump(result, f, indent=1)
    for _, text in sections:
        print(text)
    if write_docs:
        for name, text in sections:
            update(doc, name, text)
