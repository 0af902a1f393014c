"""canon.jsonb_text, the SQLite side's JSON rendering, gives PostgreSQL's own jsonb text for every document."""

from __future__ import annotations

import json
import random

import psycopg

from hyperpage.migrate import canon
from tests.pg import PgCluster

DOCS = [
    '{"bb": 1, "a": [1.50, 1e2, -0.0, 1E-3], "é": "\\u00e9\\/\\t", "a": 2}',
    # keys of equal length in characters but not in UTF-8 bytes, and the reverse: jsonb sorts by bytes
    '{"é": 1, "ab": 2, "z": 3, "€": 4, "aé": 5, "abc": 6, "\U0001f600": 7, "": 8}',
    '{"b": {"dd": [], "c": {}}, "a": [{"y": null, "x": true}, false]}',
    '  \n{"k": 1, "tags": ["a", "b"]}\t\r\n ',
    '{"k":1,"k":2,"k":{"z":0,"y":1}}',
    "[1, 2.50, -3e-4, 12345678901234567890123, 1E+2, 0.0]",
    '"a \\" quote \\\\ backslash \\u0001 control \\ud83d\\ude00 pair"',
    "3",
    "-0",
    "null",
    "[]",
    "{}",
    '{"deep": [[[[[[[[[[["bottom"]]]]]]]]]]]}',
]
NOT_JSONB = ["", "   ", "[1, 2", "1 2", "{'a': 1}", "NaN", "[Infinity]", '{"a": "\\u0000"}', "[1,]"]


def _random_doc(rnd: random.Random, depth: int = 0) -> object:
    pick = rnd.randrange(7 if depth < 3 else 4)
    if pick == 0:
        return rnd.choice([None, True, False])
    if pick == 1:
        return rnd.choice([rnd.randint(-(10**20), 10**20), rnd.random() * 10 ** rnd.randint(-30, 30)])
    if pick in (2, 3):
        return "".join(rnd.choice('aZ é€\U0001f600\\"\n/') for _ in range(rnd.randrange(6)))
    if pick == 4:
        return [_random_doc(rnd, depth + 1) for _ in range(rnd.randrange(4))]
    keys = ["".join(rnd.choice("abé€\U0001f600") for _ in range(rnd.randrange(4))) for _ in range(rnd.randrange(6))]
    return {k: _random_doc(rnd, depth + 1) for k in keys}


def test_jsonb_text_is_what_postgresql_prints(pg_cluster: PgCluster) -> None:
    rnd = random.Random(16)
    docs = DOCS + [json.dumps(_random_doc(rnd), ensure_ascii=rnd.random() < 0.5) for _ in range(400)]
    with psycopg.connect(pg_cluster.url()) as conn:
        printed = conn.execute("SELECT d::jsonb::text FROM unnest(%s::text[]) d", (docs,)).fetchall()
        for doc, (expected,) in zip(docs, printed, strict=True):
            assert canon.jsonb_text(doc) == expected, doc
        for doc in NOT_JSONB:
            assert canon.jsonb_text(doc) is None, doc
            try:
                with conn.transaction():
                    conn.execute("SELECT %s::jsonb", (doc,))
            except psycopg.errors.DataError:
                continue
            raise AssertionError(f"PostgreSQL takes {doc!r}: the test's premise is wrong")


# Flat documents as JSON writers store them (True: taken as stored), and near misses jsonb prints differently (key
# order, a duplicate key, -0, spacing, an escape, a colon inside a string that would read as the end of a key)
FLAT = {
    '{"k": 5, "tags": ["a", "b"]}': True,
    '{"tags": ["a"], "k": 5}': False,
    '{"b": 1, "a": 2}': False,
    '{"a": 1, "a": 2}': False,
    '{"bb": 1, ": a": 2}': False,
    '{"x": "q, ", ": z": 1}': False,
    '{"": 0, "ab": true, "é": -12, "abc": [], "€": null, "\U0001f600": "\U0001f600"}': True,  # jsonb's order
    '{"é": 1, "ab": 2}': False,
    '{"a": -0}': False,
    '{"a":1}': False,
    '{"a": [1,2]}': False,
    '{"a": "\\u00e9"}': False,
    '{"a": {"b": 1}}': False,
    '["bug"]': True,
    "[]": True,
    "{}": True,
    '"plain"': True,
    "12345678901234567890123": True,
    " [1] ": False,
}


def test_documents_taken_as_stored_are_what_postgresql_prints(pg_cluster: PgCluster) -> None:
    """canon.jsonb_as_stored: the SQLite side's shortcut (no parse) never accepts a text jsonb prints otherwise."""
    rnd = random.Random(61)
    flat_docs = [
        {rnd.choice(["k", "tags", "ab", "é", "b", ""]): rnd.choice([1, -7, "x", ["a", 2], None]) for _ in range(3)}
        for _ in range(300)
    ]
    docs = list(FLAT) + [json.dumps(d, ensure_ascii=False) for d in flat_docs] + DOCS
    with psycopg.connect(pg_cluster.url()) as conn:
        printed = conn.execute("SELECT d::jsonb::text FROM unnest(%s::text[]) d", (docs,)).fetchall()
    taken = [doc for doc in docs if canon.jsonb_as_stored(doc.encode())]
    for doc, (expected,) in zip(docs, printed, strict=True):
        if canon.jsonb_as_stored(doc.encode()):
            assert doc == expected, doc
    assert {doc: doc in taken for doc in FLAT} == FLAT
    assert len(taken) > 100


def test_a_column_taken_as_stored_at_once_is_each_document_taken_as_stored() -> None:
    """canon.jsonb_as_stored_all (a batch's JSON column in one match) accepts a column exactly when
    jsonb_as_stored accepts each of its documents: what the first one's keys allow, and every other document."""
    same = [b'{"k": %d, "tags": ["a", "b"]}' % i for i in range(20)]
    cases = {
        "shared keys": same,
        "other keys": [*same, b'{"a": 1, "bb": 2}'],
        "one more key": [*same, b'{"k": 1, "tags": [], "zzzz": 1}'],
        "keys out of jsonb's order": [*same, b'{"tags": [], "k": 1}'],
        "the first out of jsonb's order": [b'{"tags": [], "k": 1}'] * 3,
        "a duplicate key": [b'{"k": 1, "k": 2}'] * 2,
        "a number jsonb prints otherwise": [*same, b'{"k": 1.50, "tags": []}'],
        "a key with a colon": [b'{"a:b": 1, "tags": 2}'] * 2,
        "an escape in a key": [b'{"a\\"": 1, "tags": 2}'] * 2,
        "a newline in a string": [*same, b'{"k": 1, "tags": ["a\nb"]}'],
        "other spacing": [*same, b'{"k":1, "tags": []}'],
        "scalars and arrays": [b"1", b"[]", b'"x"', b"null", b'[1, "a"]'],
        "an array first": [b"[]", *same],
        "empty": [],
    }
    for name, docs in cases.items():
        expected = bool(docs) and all(canon.jsonb_as_stored(d) for d in docs)
        for column in (tuple(docs), tuple(map(bytearray, docs))):
            assert canon.jsonb_as_stored_all(column) == expected, name
    rnd = random.Random(7)
    pool = [json.dumps(d).encode() for d in ({"k": 1}, {"b": 1, "k": [1, 2]}, {"k": 1, "b": 2}, [1], "é")]
    for _ in range(300):
        docs = [rnd.choice(pool) for _ in range(rnd.randint(1, 6))]
        assert canon.jsonb_as_stored_all(tuple(docs)) == all(canon.jsonb_as_stored(d) for d in docs), docs
