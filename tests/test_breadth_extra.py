"""Unit tests of the extra losses: registry names, config round trips, argument checks."""

import jax
import numpy as np
import pytest

import kiln


@pytest.mark.parametrize("name", ["ctc", "circle", "CTC", "Circle",
                                  "CategoricalGeneralizedCrossEntropy"])
def test_names_resolve(name):
    assert kiln.losses.get(name) is not None


@pytest.mark.parametrize("cls", [kiln.losses.CTC, kiln.losses.Circle,
                                 kiln.losses.CategoricalGeneralizedCrossEntropy])
def test_serialize_round_trip(cls):
    loss = cls(name="mine", reduction="sum")
    back = kiln.losses.deserialize(kiln.losses.serialize(loss))
    assert type(back) is cls and back.get_config() == loss.get_config()


def test_generalized_cross_entropy_rejects_bad_q():
    with pytest.raises(ValueError, match="open interval"):
        kiln.losses.CategoricalGeneralizedCrossEntropy(q=1.0)


def test_ctc_checks_ranks():
    with pytest.raises(ValueError, match="max_length"):
        kiln.losses.ctc(np.zeros((2,), "int32"), np.zeros((2, 3, 4)))


def test_ctc_is_jittable_and_differentiable():
    labels = np.array([[1, 2]], "int32")
    grad = jax.jit(jax.grad(lambda z: kiln.losses.CTC()(labels, z)))(np.zeros((1, 4, 3), "float32"))
    assert grad.shape == (1, 4, 3) and bool(np.isfinite(grad).all())


def test_circle_mean_counts_positive_losses_only():
    emb = np.eye(3, dtype="float32")
    labels = np.array([0, 1, 2])  # no positive pairs: every loss is 0, the mean is 0
    assert float(kiln.losses.Circle()(labels, emb)) == 0.0


def test_initializer_compatibility_aliases():
    assert kiln.initializers.IdentityInitializer is kiln.initializers.Identity
    assert kiln.initializers.OrthogonalInitializer is kiln.initializers.Orthogonal
    assert isinstance(kiln.initializers.get("IdentityInitializer"), kiln.initializers.Identity)
