"""Reports: terminal tables, Markdown, JSON and HTML."""
