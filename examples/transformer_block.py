"""A transformer encoder block (self-attention + feed-forward, each with a residual connection
and LayerNormalization) classifies synthetic token sequences by topic.

The data are generated here (nothing is downloaded): 4 topics, each a probability
distribution over a 64-word vocabulary that overlaps with the others, so single words are
ambiguous. A sequence of 32 words mixes words of its topic with uniform noise words; the model
predicts the topic. The block is written with the functional API, as in Keras's examples:

    x = LayerNormalization()(x + MultiHeadAttention(...)(x, x))
    x = LayerNormalization()(x + Dense(dim)(Dense(ff, relu)(x)))

Run:
    python examples/transformer_block.py
"""

from __future__ import annotations

import time

import numpy as np

import kiln as keras
from kiln import layers

VOCAB, LENGTH, TOPICS, DIM = 64, 32, 4, 32


def make_sequences(n: int, seed: int, noise: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    """`n` sequences `(n, LENGTH)` of word ids and their topic labels `(n,)`."""
    rng = np.random.default_rng(0)  # the topics are the same for every split
    topics = rng.dirichlet(np.full(VOCAB, 0.3), size=TOPICS)
    rng = np.random.default_rng(seed)
    y = rng.integers(0, TOPICS, size=n)
    x = np.empty((n, LENGTH), dtype="int32")
    for i in range(n):
        topical = rng.choice(VOCAB, size=LENGTH, p=topics[y[i]])
        x[i] = np.where(rng.random(LENGTH) < noise, rng.integers(0, VOCAB, size=LENGTH), topical)
    return x, y.astype("int32")


def transformer_block(x, num_heads: int = 4, ff_dim: int = 64, dropout: float = 0.1):
    """Post-norm encoder block: attention and feed-forward sublayers with residuals."""
    attended = layers.MultiHeadAttention(num_heads=num_heads, key_dim=DIM // num_heads,
                                         dropout=dropout)(x, x)
    attended = layers.Dropout(dropout)(attended)
    x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, attended]))
    hidden = layers.Dense(ff_dim, activation="relu")(x)
    out = layers.Dropout(dropout)(layers.Dense(DIM)(hidden))
    return layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, out]))


def build_model() -> keras.Model:
    tokens = keras.Input((LENGTH,), dtype="int32")
    x = layers.Embedding(VOCAB, DIM)(tokens)
    x = transformer_block(x)
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(TOPICS, activation="softmax")(x)
    model = keras.Model(tokens, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def main() -> None:
    keras.utils.set_random_seed(0)
    x_train, y_train = make_sequences(4000, seed=1)
    x_test, y_test = make_sequences(1000, seed=2)
    model = build_model()
    model.summary()
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=6, batch_size=64, validation_split=0.1, verbose=2)
    seconds = time.perf_counter() - start
    result = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    print(f"test accuracy {result['accuracy']:.3f} (loss {result['loss']:.3f}, chance "
          f"{1 / TOPICS:.2f}), trained in {seconds:.1f} s")


if __name__ == "__main__":
    main()
