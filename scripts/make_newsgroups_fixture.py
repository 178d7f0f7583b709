#!/usr/bin/env python3
"""Builds the 20 Newsgroups parity fixture for Tensorlet.Models.Data.

Reads 20news-bydate.tar.gz with tarfile (files decoded as latin-1, the way scikit-learn's
load_files(..., encoding="latin1") does), applies scikit-learn's own strip_newsgroup_header,
strip_newsgroup_footer and strip_newsgroup_quoting (in fetch_20newsgroups' order: headers,
footers, quotes) and the notebook's cleaning, then writes:

  Tensorlet.Tests/Fixtures/newsgroups/summary.json        whole-corpus counts, vocabulary, SHA-256
  Tensorlet.Tests/Fixtures/newsgroups/sample_hashes.json a sample of hard documents: each one's archive path and
                                                          the SHA-256 of its stripped texts and cleaned sequence
                                                          (hashes only: no corpus text goes into the repository)

Usage: python3 scripts/make_newsgroups_fixture.py [path/to/20news-bydate.tar.gz]
(default: $TENSORLET_DATA/20news-bydate.tar.gz). Needs scikit-learn (tested with 1.2.1).
"""

import hashlib
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile

import sklearn
from sklearn.datasets._twenty_newsgroups import (
    strip_newsgroup_footer,
    strip_newsgroup_header,
    strip_newsgroup_quoting,
)

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tensorlet.Tests", "Fixtures", "newsgroups")

# The notebook's cleaning.
TOKEN_RE = re.compile(r"[\w']+|[.,!?;]")
KEEP_RE = re.compile(r"[A-Za-z.,!?;]*")



def sha256_text(text):
    """The SHA-256 of a text's UTF-8 bytes, as the C# tests compute it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

def keep(token):
    return KEEP_RE.fullmatch(token) and not token.isupper() and not any(c.isdigit() for c in token)


def clean(text, token_re=TOKEN_RE):
    joined = " ".join(t.lower() for t in token_re.findall(text) if keep(t))
    return joined[:100] if len(joined) >= 100 else None


def strip_all(text):
    return strip_newsgroup_quoting(strip_newsgroup_footer(strip_newsgroup_header(text)))


# Wrong-but-plausible variants: a document where one of them disagrees with scikit-learn is a
# document that tells a faithful port from an approximate one, so the sample takes those first.
ASCII_TOKEN_RE = re.compile(r"[\w']+|[.,!?;]", re.ASCII)
# .NET's \w is letters, marks, decimal digits and connectors: no ² ³ ¹ ¼ ½ ¾ (category No).
DOTNET_TOKEN_RE = re.compile(r"(?:[^\W\u00b2\u00b3\u00b9\u00bc\u00bd\u00be]|')+|[.,!?;]")
ASCII_SPACE = " \t\n\r\x0b\x0c"


def footer_ascii_strip(text):
    lines = text.strip(ASCII_SPACE).split("\n")
    for line_num in range(len(lines) - 1, -1, -1):
        if lines[line_num].strip(ASCII_SPACE).strip("-") == "":
            break
    return "\n".join(lines[:line_num]) if line_num > 0 else text


def quoting_splitlines(text):
    quote = re.compile(r"(writes in|writes:|wrote:|says:|said:|^In article|^Quoted from|^\||^>)")
    return "\n".join(line for line in text.splitlines() if not quote.search(line))


def variants_disagree(text):
    h = strip_newsgroup_header(text)
    expected = clean(strip_all(text))
    if clean(strip_all(text), ASCII_TOKEN_RE) != expected:
        return "ascii-word"
    if clean(strip_all(text), DOTNET_TOKEN_RE) != expected:
        return "dotnet-word"
    if clean(strip_newsgroup_quoting(footer_ascii_strip(h))) != expected:
        return "ascii-strip"
    if clean(quoting_splitlines(strip_newsgroup_footer(h))) != expected:
        return "splitlines"
    return None


def fetch_with_scikit_learn(archive, subsets):
    """Runs the real fetch_20newsgroups on this archive: its download step (_fetch_remote) is replaced by a copy of
    the local file, so scikit-learn itself extracts it, loads it with load_files (shuffled, random_state=0), caches it,
    and applies its own subset, remove and shuffle (random_state=42) logic. Returns {(subset, shuffle): Bunch}."""
    from sklearn.datasets import _twenty_newsgroups as tn

    def fake_fetch_remote(remote, dirname=None):
        path = os.path.join(dirname, remote.filename)
        shutil.copyfile(archive, path)
        return path

    original = tn._fetch_remote
    tn._fetch_remote = fake_fetch_remote
    home = tempfile.mkdtemp(prefix="sklearn-20news-")
    try:
        return {
            (subset, shuffle): tn.fetch_20newsgroups(
                data_home=home, subset=subset, remove=("headers", "footers", "quotes"), shuffle=shuffle, download_if_missing=True)
            for subset in subsets for shuffle in (False, True)
        }
    finally:
        tn._fetch_remote = original
        shutil.rmtree(home, ignore_errors=True)


def relative(filename):
    parts = filename.replace(os.sep, "/").split("/")
    return "/".join(parts[-3:])


def sort_key(name):
    # load_files: sorted(listdir) of the group folders, then of the files; fetch_20newsgroups("all")
    # puts train before test.
    split, group, file = name.split("/")
    return (0 if split == "20news-bydate-train" else 1, group, file)


def main():
    archive = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.environ.get("TENSORLET_DATA", "."), "20news-bydate.tar.gz")
    docs = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if member.isfile():
                name = member.name[2:] if member.name.startswith("./") else member.name
                docs[name] = tar.extractfile(member).read().decode("latin1")
    order = sorted(docs, key=sort_key)

    train = sum(1 for n in order if n.startswith("20news-bydate-train/"))
    test = len(order) - train
    groups = sorted({n.split("/")[1] for n in order})

    cleaned = {n: clean(strip_all(docs[n])) for n in order}
    sequences = [cleaned[n] for n in order if cleaned[n] is not None]
    joined = "\n".join(sequences)
    vocabulary = "".join(sorted(set(joined) - {"\n"}))
    ngrams = {}
    for n in range(1, 7):
        grams = set()
        for s in sequences:
            for i in range(0, 100 - n - 1)[:10]:
                grams.add(s[i:i + n])
        ngrams[str(n)] = len(grams)

    per_subset = {}
    for subset, prefix in (("train", "20news-bydate-train/"), ("test", "20news-bydate-test/")):
        seqs = [cleaned[n] for n in order if n.startswith(prefix) and cleaned[n] is not None]
        per_subset[subset] = {"sequences": len(seqs), "sha256": hashlib.sha256("\n".join(seqs).encode("ascii")).hexdigest()}

    # The same through scikit-learn's own fetch_20newsgroups: with shuffle=False (which still has load_files'
    # random_state=0 order) every document must clean to the same sequence as above; shuffle=True (the default,
    # random_state=42, as in the notebook) gives the order to reproduce.
    fetched = fetch_with_scikit_learn(archive, ("train", "test", "all"))
    sklearn_order = {}
    for subset in ("train", "test", "all"):
        unshuffled = fetched[(subset, False)]
        pairs = [(relative(f), clean(t)) for f, t in zip(unshuffled.filenames, unshuffled.data)]
        expected_names = [n for n in order if subset == "all" or n.startswith(f"20news-bydate-{subset}/")]
        if sorted(p for p, _ in pairs) != sorted(expected_names) or dict(pairs) != {n: cleaned[n] for n in expected_names}:
            raise SystemExit(f"fetch_20newsgroups(subset={subset!r}, shuffle=False) differs from the tarfile pipeline")
        shuffled = fetched[(subset, True)]
        seqs = [c for c in (clean(t) for t in shuffled.data) if c is not None]
        sklearn_order[subset] = {
            "unshuffled_first_documents": [relative(f) for f in unshuffled.filenames[:5]],
            "first_documents": [relative(f) for f in shuffled.filenames[:5]],
            "last_documents": [relative(f) for f in shuffled.filenames[-3:]],
            "sequences": len(seqs),
            "sha256": hashlib.sha256("\n".join(seqs).encode("ascii")).hexdigest(),
        }

    summary = {
        "generator": "scripts/make_newsgroups_fixture.py",
        "sklearn_version": sklearn.__version__,
        "remove": ["headers", "footers", "quotes"],
        "train_documents": train,
        "test_documents": test,
        "groups": groups,
        "sequences": len(sequences),
        "unique_sequences": len(set(sequences)),
        "vocabulary": vocabulary,
        "sequences_sha256": hashlib.sha256(joined.encode("ascii")).hexdigest(),
        "subsets": per_subset,
        "scikit_learn_shuffled_order": sklearn_order,
        "ngram_vocabulary_first10_windows": ngrams,
        "ngram_windows_first10": 10 * len(sequences),
    }

    # The sample: every hard category, smallest documents first, so the fixture stays small.
    picks = {}

    def add(name, reason):
        if name not in picks:
            picks[name] = reason

    by_size = sorted(order, key=lambda n: (len(docs[n]), sort_key(n)))
    categories = [
        ("variant-disagrees", lambda n: variants_disagree(docs[n]) is not None, 40),
        ("8-bit", lambda n: any(ord(c) >= 128 for c in docs[n]), 12),
        ("numeric-8-bit", lambda n: any(c in docs[n] for c in "\u00b2\u00b3\u00b9\u00bc\u00bd\u00be"), 4),
        ("cr", lambda n: "\r" in docs[n], 6),
        ("continuation-first-line", lambda n: docs[n][:1] in (" ", "\t"), 4),
        ("odd-whitespace", lambda n: any(c in docs[n] for c in "\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0"), 6),
        ("no-blank-line", lambda n: "\n\n" not in docs[n], 3),
        ("quoted-reply", lambda n: "writes:" in docs[n] and "\n>" in docs[n], 6),
        ("pipe-quote", lambda n: "\n|" in docs[n], 3),
        ("signature-dashes", lambda n: "\n--\n" in docs[n] or "\n-- \n" in docs[n], 6),
        ("footer-unchanged", lambda n: strip_newsgroup_footer(strip_newsgroup_header(docs[n])) == strip_newsgroup_header(docs[n]) and strip_newsgroup_header(docs[n]).strip() != "", 4),
        ("dropped-short", lambda n: cleaned[n] is None, 6),
        ("exactly-100", lambda n: len(" ".join(t.lower() for t in TOKEN_RE.findall(strip_all(docs[n])) if keep(t))) == 100, 2),
        ("upper-apostrophe-digit", lambda n: re.search(r"\b[A-Z]{2,}\b", docs[n]) and "'" in docs[n] and re.search(r"[a-z]\d", docs[n]), 3),
        ("test-split", lambda n: n.startswith("20news-bydate-test/"), 3),
    ]
    for reason, predicate, count in categories:
        found = 0
        for n in by_size:
            if found >= count:
                break
            if len(docs[n]) > 12000 and reason not in ("variant-disagrees", "cr"):
                continue
            if predicate(n):
                add(n, reason if reason != "variant-disagrees" else "variant-disagrees:" + variants_disagree(docs[n]))
                found += 1

    sample = []
    for n in sorted(picks, key=sort_key):
        text = docs[n]
        # Only hashes: the corpus, and any extract of it, never goes into the repository.
        entry = {
            "path": n,
            "reason": picks[n],
            "stripped_sha256": sha256_text(strip_all(text)),
            "cleaned_sha256": None if cleaned[n] is None else sha256_text(cleaned[n]),
        }
        if len(text) <= 6000:
            entry["headers_sha256"] = sha256_text(strip_newsgroup_header(text))
            entry["footers_sha256"] = sha256_text(strip_newsgroup_footer(text))
            entry["quotes_sha256"] = sha256_text(strip_newsgroup_quoting(text))
        sample.append(entry)

    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, "summary.json"), "w", encoding="ascii") as f:
        json.dump(summary, f, indent=1, ensure_ascii=True)
        f.write("\n")
    with open(os.path.join(OUT_DIR, "sample_hashes.json"), "w", encoding="ascii") as f:
        json.dump({"generator": summary["generator"], "sklearn_version": sklearn.__version__, "hash": "sha256 of the UTF-8 text", "documents": sample}, f, indent=1, ensure_ascii=True)
        f.write("\n")

    print(f"documents: train {train}, test {test}, groups {len(groups)}")
    print(f"sequences: {len(sequences)} ({len(set(sequences))} unique)")
    print(f"vocabulary ({len(vocabulary)}): {vocabulary!r}")
    print(f"sha256 of the sequences joined with \\n: {summary['sequences_sha256']}")
    print("fetch_20newsgroups gives the same sequence per document for train, test and all; shuffled (random_state=42):", {k: v["sha256"][:12] for k, v in sklearn_order.items()})
    print("n-gram vocabulary (first 10 windows):", ngrams, "windows:", 10 * len(sequences))
    reasons = {}
    for r in picks.values():
        reasons[r] = reasons.get(r, 0) + 1
    print(f"sample: {len(sample)} documents", reasons)
    print("fixture size:", os.path.getsize(os.path.join(OUT_DIR, "sample_hashes.json")), "bytes")


if __name__ == "__main__":
    main()
