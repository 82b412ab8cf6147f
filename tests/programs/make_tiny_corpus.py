"""Writes upstream/word_language_model/data/tiny/{train,valid,test}.txt (committed; rerun to regenerate).

A toy grammar instead of WikiText-2: few words and strong regularities, so the small
language models of the tests learn it within an epoch or two, offline.
"""

import pathlib
import random

SUBJECTS = ["the cat", "the dog", "a bird", "my friend", "the teacher", "a child"]
VERBS = ["sees", "likes", "finds", "follows", "helps"]
OBJECTS = ["the ball", "a tree", "the house", "some food", "the river", "a book"]
TAILS = ["today", "again", "in the morning", "at night", "with joy"]


def main():
    rng = random.Random(0)
    out = pathlib.Path(__file__).resolve().parent / "upstream" / "word_language_model" / "data" / "tiny"
    out.mkdir(parents=True, exist_ok=True)
    for name, lines in [("train", 400), ("valid", 60), ("test", 60)]:
        text = [
            " ".join(f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(TAILS)} .".split())
            for _ in range(lines)
        ]
        (out / f"{name}.txt").write_text("\n".join(text) + "\n")


if __name__ == "__main__":
    main()
