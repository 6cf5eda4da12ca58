"""What describes a cluster: exemplars (nearest the centroid, then diverse ones) and c-TF-IDF keywords."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

_PLACEHOLDER = re.compile(r"<[a-z_]+>")
_TOKEN = r"(?u)\b[A-Za-z][A-Za-z0-9_]+\b"


def exemplars(vectors: np.ndarray, center: np.ndarray, k: int) -> list[int]:
    """Up to ``k`` row indices of distinct ``vectors``: the half nearest ``center``, then farthest-point picks."""
    n = len(vectors)
    if n == 0 or k <= 0:
        return []
    distance = 1.0 - vectors @ center
    order = np.argsort(distance, kind="stable")
    central = max(1, math.ceil(k / 2))
    chosen = [int(i) for i in order[:central]]
    if len(chosen) >= min(k, n):
        return chosen[:k]
    nearest = np.min(1.0 - vectors @ vectors[chosen].T, axis=1)
    while len(chosen) < min(k, n):
        nearest[chosen] = -1.0
        pick = int(np.argmax(nearest))
        if nearest[pick] <= 1e-6:
            break  # only duplicates of what is already shown are left
        chosen.append(pick)
        nearest = np.minimum(nearest, 1.0 - vectors @ vectors[pick])
    return chosen


def clean(text: str) -> str:
    """Text for keyword counting: placeholders such as ``<num>`` removed."""
    return _PLACEHOLDER.sub(" ", text)


def ctfidf_keywords(texts: Sequence[str], weights: Sequence[float], classes: Sequence[int], n_classes: int,
                    top: int) -> list[list[str]]:
    """Class-based TF-IDF keywords of each class against the others (as in BERTopic).

    ``texts`` are distinct texts, ``weights`` how many items share each, ``classes`` the class of each
    (``-1``: counted for no class). Score of term t in class c: ``tf(t, c) / |c| * log(1 + A / f(t))``
    with ``A`` the average number of words per class and ``f(t)`` the frequency of t over all classes.
    """
    if n_classes == 0:
        return []
    from scipy import sparse
    from sklearn.feature_extraction.text import CountVectorizer

    keep = [i for i, c in enumerate(classes) if c >= 0]
    if not keep:
        return [[] for _ in range(n_classes)]
    vectorizer = CountVectorizer(token_pattern=_TOKEN, ngram_range=(1, 2), stop_words="english", lowercase=True)
    try:
        counts = vectorizer.fit_transform([clean(texts[i]) for i in keep])
    except ValueError:  # no words at all
        return [[] for _ in range(n_classes)]
    membership = sparse.csr_matrix(
        (np.asarray([weights[i] for i in keep], dtype=np.float64), ([classes[i] for i in keep], range(len(keep)))),
        shape=(n_classes, len(keep)),
    )
    tf = (membership @ counts).toarray()
    words_per_class = tf.sum(axis=1)
    frequency = tf.sum(axis=0)
    average = words_per_class.mean() if len(words_per_class) else 0.0
    idf = np.log1p(average / np.maximum(frequency, 1e-12))
    scores = tf / np.maximum(words_per_class[:, None], 1e-12) * idf[None, :]
    terms = vectorizer.get_feature_names_out()
    out: list[list[str]] = []
    for row in scores:
        picked: list[str] = []
        covered: set[str] = set()
        for j in np.argsort(-row, kind="stable"):
            if row[j] <= 0 or len(picked) >= top:
                break
            words = str(terms[j]).split()
            if set(words) <= covered:
                continue  # nothing new beside the words already shown
            picked.append(str(terms[j]))
            covered.update(words)
        out.append(picked)
    return out
