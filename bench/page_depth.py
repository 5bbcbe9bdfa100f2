"""Where the page-depth floor comes from: each page's share of read fields in the high band.

``ocr.confidence.PAGE_DEPTH_MIN_HIGH_SHARE`` caps every field of a page whose share of read fields
(non-empty proposals) at confidence >= 0.9 is below the lowest share seen on the tuning families:
there the calibrator's promises were never measured. This renders pages of the given families
(default: the tuning families, whose pages the calibrator was fitted on), runs the pipeline as
ingest does with that rule switched off, and prints each page's share, then the lowest and the
5th percentile. Never run it on held-out families to set the floor: that would tune on them.

    python -m bench.page_depth --pages-per-family 3 --seeds 4242,777

Cost: ~8 s per page on 2 cores (24 pages: about 3-4 min).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import ocr.confidence
from bench.recognition import RENDERED_UNIT, unit_lexicon
from ocr.confidence import page_high_share
from ocr.image.loading import load_images
from ocr.pipeline import process_page
from ocr.reader import build_reader
from samples.families import family, select
from samples.fields import render_family_page
from workbench.book_types import get_book_type


def page_shares(families: list[str], pages: int, seeds: list[int]) -> list[dict[str, object]]:
    """Each page's read-field count and high-band share, the depth rule off."""
    reader = build_reader(local=unit_lexicon(RENDERED_UNIT))
    floor = ocr.confidence.PAGE_DEPTH_MIN_HIGH_SHARE
    ocr.confidence.PAGE_DEPTH_MIN_HIGH_SHARE = 0.0  # measure the shares the rule would judge
    try:
        rows = []
        for seed in seeds:
            for name in families:
                for index in range(pages):
                    page = render_family_page(family(name), index, seed)
                    image = load_images(page.data, f"{name}_{index}.jpg")[0].image
                    result = process_page(image, get_book_type(page.book_type).layout, reader)
                    read = [p.confidence for r in result.proposals for p in r.values() if p.value]
                    rows.append({"family": name, "seed": seed, "index": index, "read_fields": len(read),
                                 "high_share": round(page_high_share(read), 4)})
                    print(f"{name:20s} seed {seed} page {index}: {len(read):3d} read, "
                          f"high share {rows[-1]['high_share']:.3f}", flush=True)
        return rows
    finally:
        ocr.confidence.PAGE_DEPTH_MIN_HIGH_SHARE = floor


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", default="tuned", help="'tuned' or comma-separated tuning family names")
    parser.add_argument("--pages-per-family", type=int, default=3)
    parser.add_argument("--seeds", default="4242,777")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    chosen = select(args.families)
    if any(f.held_out for f in chosen):
        parser.error("held-out families never set the floor (that would tune on them)")
    names = [f.name for f in chosen]
    rows = page_shares(names, args.pages_per_family, [int(s) for s in args.seeds.split(",")])
    shares = np.array([float(str(r["high_share"])) for r in rows
                       if int(str(r["read_fields"])) >= ocr.confidence.PAGE_DEPTH_MIN_FIELDS])
    if shares.size:
        print(f"pages {shares.size}: lowest high share {shares.min():.3f}, 5th percentile "
              f"{np.percentile(shares, 5):.3f}, median {np.median(shares):.3f} "
              f"(floor in use: {ocr.confidence.PAGE_DEPTH_MIN_HIGH_SHARE})")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
