"""An LSTM reads padded token sequences and learns a rule that depends on word order.

The data are synthetic "sentences" (nothing is downloaded): random words from a 60-word
vocabulary, 6 to 24 words long, right-padded with 0. The label is 1 when the phrase
"not" -> "bad" appears (the two words next to each other, in that order) and 0 otherwise; half
the negatives contain the same two words in the other order or apart, so counting words is
not enough: the model has to read the sequence. Padding is masked by
`Embedding(mask_zero=True)`, so the LSTM skips it.

Run:
    python examples/lstm_text_classifier.py
"""

from __future__ import annotations

import time

import numpy as np

import kiln as keras
from kiln import layers

VOCAB, MAX_LEN = 60, 24
NOT, BAD = 7, 11  # the two words of the phrase


def make_sentences(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` padded sentences `(n, MAX_LEN)` of word ids (0 = padding) and their 0/1 labels."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, MAX_LEN), dtype="int32")
    y = rng.integers(0, 2, size=n).astype("float32")
    for i in range(n):
        length = rng.integers(6, MAX_LEN + 1)
        words = rng.choice([w for w in range(1, VOCAB) if w not in (NOT, BAD)], size=length)
        a, b = sorted(rng.choice(length, size=2, replace=False))
        if y[i] == 1:
            a = rng.integers(0, length - 1)
            words[a], words[a + 1] = NOT, BAD
        elif rng.random() < 0.5:  # a hard negative: the same words, wrong order or apart
            words[a], words[b] = (BAD, NOT) if b == a + 1 else (NOT, BAD)
        x[i, :length] = words
    return x, y


def build_model() -> keras.Model:
    model = keras.Sequential([
        keras.Input((MAX_LEN,), dtype="int32"),
        layers.Embedding(VOCAB, 16, mask_zero=True),
        layers.LSTM(32),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def main() -> None:
    keras.utils.set_random_seed(0)
    x_train, y_train = make_sentences(4000, seed=1)
    x_test, y_test = make_sentences(1000, seed=2)
    model = build_model()
    model.summary()
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=12, batch_size=64, validation_split=0.1, verbose=2)
    seconds = time.perf_counter() - start
    result = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    print(f"test accuracy {result['accuracy']:.3f} (loss {result['loss']:.3f}), "
          f"trained in {seconds:.1f} s")


if __name__ == "__main__":
    main()
