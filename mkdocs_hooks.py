"""mkdocs hook: the README is the site's home page (docs/index.md links to it), so its links,
written from the repository's root, are rewritten to be relative to docs/."""

import re

_REPO_PREFIX = re.compile(r"\]\(docs/")


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri != "index.md":
        return markdown
    return _REPO_PREFIX.sub("](", markdown)
