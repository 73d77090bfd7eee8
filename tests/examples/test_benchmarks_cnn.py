"""The cnn benchmark's hand-written NumPy layers compute what chainrule computes (timing is never tested)."""

import numpy as np

from autograd import Tensor
from benchmarks import cnn


def test_hand_written_conv_and_pool_layers_match_the_engine():
    rng = np.random.default_rng(0)
    x, w, b, g = cnn.make_conv_case(rng, np.float64, shape=(3, 4, 6, 6), out_channels=5)
    tensors = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    out = cnn.engine_conv_layer(*tensors, g)
    hand_out, hand_grads = cnn.numpy_conv_layer(x, w, b, g)
    np.testing.assert_allclose(out.data, hand_out, rtol=1e-12, atol=1e-12)
    for t, hand in zip(tensors, hand_grads):
        np.testing.assert_allclose(t.grad, hand, rtol=1e-12, atol=1e-12)
    xp = np.round(rng.normal(size=(2, 3, 6, 8)))  # ties split evenly in both
    gp = rng.normal(size=(2, 3, 3, 4))
    tp = Tensor(xp, requires_grad=True)
    out = cnn.engine_pool_layer(tp, gp)
    hand_out, hand_grad = cnn.numpy_pool_layer(xp, gp)
    np.testing.assert_array_equal(out.data, hand_out)
    np.testing.assert_allclose(tp.grad, hand_grad, rtol=1e-15)


def test_hand_written_lenet_step_matches_the_engine():
    rng = np.random.default_rng(1)
    arrays = [a.astype(np.float64) for a in cnn.make_lenet(rng)]
    images, onehot = (a.astype(np.float64) for a in cnn.make_images(rng, 5))
    params = cnn.tensor_params(arrays)
    loss = cnn.engine_lenet_loss(params, Tensor(images), onehot)
    loss.backward()
    hand_loss, hand_grads = cnn.numpy_lenet_forward_backward(arrays, images, onehot)
    np.testing.assert_allclose(loss.item(), hand_loss, rtol=1e-12)
    for p, hand in zip(params, hand_grads):
        np.testing.assert_allclose(p.grad, hand, rtol=1e-9, atol=1e-13)
