"""TF-IDF + linear classifier baseline for samples/NewsgroupClassifier, on exactly the text the LSTM sees.

The cleaned posts come from the C# side, so both read the same text: run the sample with
    --export cleaned.tsv
which writes one line per post, "split TAB group TAB cleaned text" (headers, footers and quotes removed as
scikit-learn's remove=('headers','footers','quotes'), then lower-cased, whitespace collapsed, characters outside a
small alphabet dropped; ASCII). This script keeps the first --max-chars characters of each post, as the LSTM does
(ASCII, so Python's slice is the C# one), fits TF-IDF features on the train split and a linear classifier on them,
and prints the test accuracy. --max-chars 0 keeps the whole post.

Usage: /usr/bin/python3 scripts/newsgroups_sklearn_baseline.py cleaned.tsv [--max-chars 256]
Needs Debian's python3-sklearn (tested with scikit-learn 1.2.1).
"""
import argparse
import sys
import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline, make_union
from sklearn.svm import LinearSVC


def read(path, max_chars):
    splits = {"train": ([], []), "test": ([], [])}
    with open(path, encoding="ascii", newline="\n") as f:
        for number, line in enumerate(f, 1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3 or parts[0] not in splits:
                sys.exit(f"error: {path}:{number} is not 'split TAB group TAB text'")
            texts, labels = splits[parts[0]]
            texts.append(parts[2][:max_chars] if max_chars > 0 else parts[2])
            labels.append(parts[1])
    return splits["train"], splits["test"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cleaned", help="the file written by NewsgroupClassifier --export")
    parser.add_argument("--max-chars", type=int, default=256, help="characters kept from the start of each post (0: all)")
    args = parser.parse_args()
    (train_x, train_y), (test_x, test_y) = read(args.cleaned, args.max_chars)
    start = time.perf_counter()
    # Word unigrams+bigrams and character 2-5-grams within word boundaries, sublinear TF; a linear SVM (C=1).
    model = make_pipeline(
        make_union(
            TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2),
            TfidfVectorizer(sublinear_tf=True, analyzer="char_wb", ngram_range=(2, 5), min_df=2),
        ),
        LinearSVC(C=1.0),
    )
    model.fit(train_x, train_y)
    correct = sum(p == y for p, y in zip(model.predict(test_x), test_y))
    seconds = time.perf_counter() - start
    limit = f"first {args.max_chars} characters" if args.max_chars > 0 else "whole posts"
    print(f"TF-IDF (words 1-2, chars 2-5) + LinearSVC on {len(train_x)} train posts ({limit}): "
          f"test accuracy {100.0 * correct / len(test_y):.2f}% ({correct}/{len(test_y)}), {seconds:.1f} s")


if __name__ == "__main__":
    main()
