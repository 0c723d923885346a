"""The synthetic generator written chunk by chunk (`analytics.synthetic.write_synthetic`)."""

from __future__ import annotations

import polars as pl

from analytics.extract import load_extract
from analytics.sample import write_extract
from analytics.synthetic import synthetic_extract, write_synthetic

TABLES = ("participants", "rendez_vous", "immersions")


def test_one_chunk_is_byte_for_byte_the_whole_array_generator(tmp_path):
    write_extract(synthetic_extract(1500, seed=4), tmp_path / "whole")
    counts = write_synthetic(1500, tmp_path / "chunked", seed=4)
    for name in TABLES:
        assert (tmp_path / "chunked" / f"{name}.csv").read_bytes() == (tmp_path / "whole" / f"{name}.csv").read_bytes()
    assert counts["participants"] == 1500


def test_several_chunks_make_one_valid_extract(tmp_path):
    seen = []
    counts = write_synthetic(2000, tmp_path / "x", seed=9, chunk=700, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(700, 2000), (1400, 2000), (2000, 2000)]
    for name in TABLES:
        data = (tmp_path / "x" / f"{name}.csv").read_bytes()
        assert data.count(b"\xef\xbb\xbf") == 1 and data.startswith(b"\xef\xbb\xbf")
        assert data.count(b"id_participant") == 1  # one header line
    extract = load_extract(tmp_path / "x")  # raises on any problem (duplicate ids, unknown persons…)
    people = extract.tables["participants"]
    assert people["id_participant"].to_list() == [f"CE-{i:07d}" for i in range(1, 2001)]
    assert extract.counts == counts
    # the first chunk is the whole-array generator's extract of that many persons
    first = synthetic_extract(700, seed=9)["participants"]
    assert people.head(700).select(first.columns).drop("code_insee").equals(first.drop("code_insee").cast(people.select(first.columns).drop("code_insee").schema))
    # the later chunks are other draws, not copies of the first
    assert people.slice(700, 700)["date_prescription"].to_list() != people.head(700)["date_prescription"].to_list()
    rdv_ids = extract.tables["rendez_vous"]["id_participant"]
    assert rdv_ids.is_sorted() and rdv_ids.n_unique() > 1500
