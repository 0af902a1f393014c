"""The one listing module every list uses (issue 18): common filters, text search, sort options, keyset
paging, and rows straight from the database driver to JSON bytes.

- query.py   ListQuery (the parameters every list takes), Tool, search terms and LIKE escaping
- cursor.py  SortSpec and the opaque keyset cursor
- spec.py    Listing: a list's output columns, filters, searched fields and sorts, compiled once per shape
- reader.py  runs a compiled statement on the driver: SQLite on the loop's own connection (or a pooled one's
             aiosqlite thread), asyncpg with a pooled connection
- page.py    read_page()/read_list(): one page as plain dicts and its next cursor; Page.json() the response
             bytes; read_page_json()/read_list_json(): the response bytes, with rows written as JSON by SQLite
             (sqljson.py); read_typed() the same page as the feature's dataclasses (web pages, compat routes)
- sqljson.py each row as the JSON text SQLite writes with json_object, exactly as orjson would write it
- pgsql.py   PostgreSQL: request values written into the SQL; UTC instants selected as text, finished in Python
- common.py  what every synced list shares; synced_listing() declares one from its API row dataclass

A feature keeps what is its own (its API row dataclass, filters, searched fields, computed fields) and
declares its Listing; it never builds SQL for paging or search itself.
"""
