"""The examples of PyTensor's docstrings, run under fncache with ``pytensor`` read as
``fncache`` (``import fncache as pytensor`` / ``import fncache.tensor as pt``).

``DOCTESTS`` holds the ``>>>`` examples of the docstrings of ``pytensor.tensor``, ``.gradient``,
``.compile``, ``.graph``, ``.raise_op`` and ``.tensor.random`` (each docstring one doctest; the
names a docstring reads from its module's globals are imported in its first line), and the
``.. code-block:: python`` examples of ``DimShuffle``, ``einsum`` and ``explicit_graph_inputs``
and the ``.. testcode::`` examples of ``hessian_vector_product``, ``pad``, ``tile``, ``repeat``,
``flip`` and ``slice_at_axis``, written as doctests (``pad``'s compared with ``np.pad``, whose
integer dtype fncache keeps where PyTensor prints floats). A shown value must be fncache's: its text, or
the same numbers, dtype and shape (floats to the digits numpy prints). Where an example makes
random draws, fncache's streams are not numpy's (docs/porting.md), so the draws a docstring
shows as equal must be equal and the others different. ``ELEMWISE`` holds the examples of the
elementwise functions' docstrings (each ``f = pytensor.function([x, ...], pt.NAME(x, ...));
f(...)``), checked against numpy and scipy under both linkers. With PyTensor installed, every
doctest also runs in PyTensor as written, so the values shown here are PyTensor's.

Edits to the docstrings' examples: the graph repr ``shape_padaxis`` prints (a node's name is
each library's own) is its static shape instead; the static shapes ``matvec``, ``vecmat`` and
``vecdot`` give in comments are checked; ``Unique``'s inverse of a matrix has the matrix's shape
(numpy 2's, docs/numpy.md) and ``join`` of tensors of different ndims raises numpy's
``ValueError`` (PyTensor: ``TypeError``), so those two outputs are left out."""

from __future__ import annotations

import doctest
import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import scipy.special

import fncache as fc
import fncache.tensor as ft
from fcutil import assert_same, run_cases_in_one_function

PY = fc.Mode(linker="py")

#: each docstring's examples, as PyTensor writes them
DOCTESTS: dict[str, str] = {
    "compile.executor.Function.copy": """
>>> import pytensor
>>> import pytensor.tensor as pt
>>> state = pytensor.shared(0)
>>> x = pt.iscalar("x")
>>> f = pytensor.function([x], state, updates={state: state + x})
>>> other_state = pytensor.shared(100)
>>> g = f.copy(swap={state: other_state})
>>> rng = pt.random.shared_rng(seed=123)
>>> next_rng, draw = rng.uniform()
>>> f_rng = pytensor.function([], draw, updates={rng: next_rng})
>>> g_rng = f_rng.copy()
>>> _ = f_rng()  # doctest: +SKIP
>>> _ = g_rng()  # doctest: +SKIP
>>> new_rng = pt.random.shared_rng(seed=123)
>>> g_independent = f_rng.copy(swap={rng: new_rng})
""",
    "compile.maker.function": """
>>> import numpy as np
>>> import pytensor
>>> import pytensor.tensor as pt
>>> x = pt.vector("x")
>>> square = pytensor.function([x], x**2)
>>> square(np.array([1.0, 2.0, 3.0], dtype=np.float64))
array([1., 4., 9.])
>>> from pytensor.compile.mode import get_mode
>>> safe_mode = get_mode().excluding("shape_unsafe")
>>> add_one = pytensor.function([x], x + 1, mode=safe_mode)
>>> add_one(np.array([1.0, 2.0], dtype=np.float64))
array([2., 3.])
>>> jax_add_one = pytensor.function([x], x + 1, mode="JAX")  # doctest: +SKIP
>>> rng = pt.random.shared_rng(seed=123)
>>> next_rng, draw = rng.normal()
>>> sample_once = pytensor.function([], draw, updates={rng: next_rng})
>>> float(sample_once())  # doctest: +SKIP
0.6823518632481435
>>> a = pt.scalar("a")
>>> b = pt.scalar("b")
>>> x = pt.vector("x")
>>> affine = pytensor.function([a, x], a + b * x, givens={b: pt.cast(0.0, b.dtype)})
>>> affine(2.0, np.array([3.0, 4.0], dtype=np.float64))
array([2., 2.])
""",
    "gradient.grad_clip": """
>>> from pytensor.gradient import grad_clip
>>> x = pytensor.tensor.type.scalar()
>>> z = pytensor.gradient.grad(grad_clip(x, -1, 1) ** 2, x)
>>> z2 = pytensor.gradient.grad(x**2, x)
>>> f = pytensor.function([x], outputs=[z, z2])
>>> print(f(2.0))
[array(1.), array(4.)]
""",
    "gradient.grad_scale": """
>>> from pytensor.gradient import grad_scale
>>> x = pytensor.tensor.fscalar()
>>> fx = pytensor.tensor.sin(x)
>>> fp = pytensor.grad(fx, wrt=x)
>>> fprime = pytensor.function([x], fp)
>>> print(fprime(2))  # doctest: +ELLIPSIS
-0.416...
>>> f_inverse = grad_scale(fx, -1.0)
>>> fpp = pytensor.grad(f_inverse, wrt=x)
>>> fpprime = pytensor.function([x], fpp)
>>> print(fpprime(2))  # doctest: +ELLIPSIS
0.416...
""",
    "gradient.verify_grad": """
>>> from pytensor.gradient import verify_grad
>>> verify_grad(
...     pytensor.tensor.tanh,
...     (np.asarray([[2, 3, 4], [-1, 3.3, 9.9]]),),
...     rng=np.random.default_rng(23098),
... )
""",
    "graph.basic.Variable.eval": """
>>> import numpy as np
>>> import pytensor.tensor as pt
>>> x = pt.dscalar("x")
>>> y = pt.dscalar("y")
>>> z = x + y
>>> np.allclose(z.eval({x: 16.3, y: 12.1}), 28.4)
True
""",
    "graph.traversal.orphans_between": """
>>> from pytensor.graph.traversal import orphans_between
>>> from pytensor.tensor import scalars
>>> x, y = scalars("xy")
>>> list(orphans_between([x], [(x + y)]))
[y]
""",
    "raise_op.Assert": """
>>> import pytensor
>>> import pytensor.tensor as pt
>>> from pytensor.raise_op import Assert
>>> x = pt.vector("x")
>>> assert_op = Assert("This assert failed")
>>> func = pytensor.function([x], assert_op(x, x.size < 2))
""",
    "tensor.basic.Join": """
>>> import pytensor.tensor as pt
>>> x, y, z = pt.matrix(), pt.matrix(), pt.matrix()
>>> u = pt.vector()
>>> r = pt.join(0, x, y, z)
>>> c = pt.join(1, x, y, z)
>>> pt.join(2, x, y, z)
Traceback (most recent call last):
numpy.exceptions.AxisError: axis 2 is out of bounds for array of dimension 2
""",
    "tensor.basic.Split": """
>>> from pytensor import function
>>> import pytensor.tensor as pt
>>> x = pt.vector(dtype="int")
>>> splits = pt.vector(dtype="int")
>>> ra, rb, rc = pt.split(x, splits, n_splits=3, axis=0)
>>> f = function([x, splits], [ra, rb, rc])
>>> a, b, c = f([0, 1, 2, 3, 4, 5], [3, 2, 1])
>>> a
array([0, 1, 2])
>>> b
array([3, 4])
>>> c
array([5])
""",
    "tensor.basic._nd_grid": """
>>> import pytensor.tensor as pt
>>> a = pt.mgrid[0:5, 0:3]
>>> a[0].eval()
array([[0, 0, 0],
       [1, 1, 1],
       [2, 2, 2],
       [3, 3, 3],
       [4, 4, 4]])
>>> a[1].eval()
array([[0, 1, 2],
       [0, 1, 2],
       [0, 1, 2],
       [0, 1, 2],
       [0, 1, 2]])
>>> b = pt.ogrid[0:5, 0:3]
>>> b[0].eval()
array([[0],
       [1],
       [2],
       [3],
       [4]])
>>> b[1].eval()
array([[0, 1, 2]])
""",
    "tensor.basic.matrix_transpose": """
>>> import pytensor.tensor as pt
>>> x = pt.arange(24).reshape((2, 3, 4))
>>> x.type.shape
(2, 3, 4)
>>> pt.matrix_transpose(x).type.shape
(2, 4, 3)
""",
    "tensor.basic.stack": """
>>> a = pytensor.tensor.type.scalar()
>>> b = pytensor.tensor.type.scalar()
>>> c = pytensor.tensor.type.scalar()
>>> x = pytensor.tensor.stack([a, b, c])
>>> x.ndim  # x is a vector of length 3.
1
>>> a = pytensor.tensor.type.tensor4()
>>> b = pytensor.tensor.type.tensor4()
>>> c = pytensor.tensor.type.tensor4()
>>> x = pytensor.tensor.stack([a, b, c])
>>> x.ndim  # x is a 5d tensor.
5
>>> rval = x.eval(dict((t, np.zeros((2, 2, 2, 2))) for t in [a, b, c]))
>>> rval.shape  # 3 tensors are stacked on axis 0
(3, 2, 2, 2, 2)
>>> x = pytensor.tensor.stack([a, b, c], axis=3)
>>> x.ndim
5
>>> rval = x.eval(dict((t, np.zeros((2, 2, 2, 2))) for t in [a, b, c]))
>>> rval.shape  # 3 tensors are stacked on axis 3
(2, 2, 2, 3, 2)
>>> x = pytensor.tensor.stack([a, b, c], axis=-2)
>>> x.ndim
5
>>> rval = x.eval(dict((t, np.zeros((2, 2, 2, 2))) for t in [a, b, c]))
>>> rval.shape  # 3 tensors are stacked on axis -2
(2, 2, 2, 3, 2)
""",
    "tensor.basic.stacklists": """
>>> from pytensor.tensor import stacklists
>>> from pytensor.tensor.type import scalars, matrices
>>> from pytensor import function
>>> a, b, c, d = scalars("abcd")
>>> X = stacklists([[a, b], [c, d]])
>>> f = function([a, b, c, d], X)
>>> f(1, 2, 3, 4)
array([[1., 2.],
       [3., 4.]])
>>> from numpy import ones
>>> a, b, c, d = matrices("abcd")
>>> X = stacklists([[a, b], [c, d]])
>>> f = function([a, b, c, d], X)
>>> x = ones((4, 4), "float32")
>>> f(x, x, x, x).shape
(2, 2, 4, 4)
""",
    "tensor.basic.tril": """
>>> import pytensor.tensor as pt
>>> pt.tril(pt.arange(1, 13).reshape((4, 3)), -1).eval()
array([[ 0,  0,  0],
       [ 4,  0,  0],
       [ 7,  8,  0],
       [10, 11, 12]])
>>> pt.tril(pt.arange(3 * 4 * 5).reshape((3, 4, 5))).eval()
array([[[ 0,  0,  0,  0,  0],
        [ 5,  6,  0,  0,  0],
        [10, 11, 12,  0,  0],
        [15, 16, 17, 18,  0]],
<BLANKLINE>
       [[20,  0,  0,  0,  0],
        [25, 26,  0,  0,  0],
        [30, 31, 32,  0,  0],
        [35, 36, 37, 38,  0]],
<BLANKLINE>
       [[40,  0,  0,  0,  0],
        [45, 46,  0,  0,  0],
        [50, 51, 52,  0,  0],
        [55, 56, 57, 58,  0]]])
""",
    "tensor.basic.triu": """
>>> import pytensor.tensor as pt
>>> pt.triu(pt.arange(1, 13).reshape((4, 3)), -1).eval()
array([[ 1,  2,  3],
       [ 4,  5,  6],
       [ 0,  8,  9],
       [ 0,  0, 12]])
>>> pt.triu(np.arange(3 * 4 * 5).reshape((3, 4, 5))).eval()
array([[[ 0,  1,  2,  3,  4],
        [ 0,  6,  7,  8,  9],
        [ 0,  0, 12, 13, 14],
        [ 0,  0,  0, 18, 19]],
<BLANKLINE>
       [[20, 21, 22, 23, 24],
        [ 0, 26, 27, 28, 29],
        [ 0,  0, 32, 33, 34],
        [ 0,  0,  0, 38, 39]],
<BLANKLINE>
       [[40, 41, 42, 43, 44],
        [ 0, 46, 47, 48, 49],
        [ 0,  0, 52, 53, 54],
        [ 0,  0,  0, 58, 59]]])
""",
    "tensor.extra_ops.Unique": """
>>> from pytensor.tensor.extra_ops import Unique
>>> import numpy as np
>>> import pytensor
>>> x = pytensor.tensor.vector()
>>> f = pytensor.function([x], Unique(True, True, False)(x))
>>> f([1, 2.0, 3, 4, 3, 2, 1.0])
[array([1., 2., 3., 4.]), array([0, 1, 2, 3]), array([0, 1, 2, 3, 2, 1, 0])]
>>> y = pytensor.tensor.matrix()
>>> g = pytensor.function([y], Unique(True, True, False)(y))
>>> g([[1, 1, 1.0], (2, 3, 3.0)])[:2]
[array([1., 2., 3.]), array([0, 3, 4])]
""",
    "tensor.extra_ops.searchsorted": """
>>> from pytensor import tensor as pt
>>> from pytensor.tensor import extra_ops
>>> x = pt.dvector("x")
>>> idx = x.searchsorted(3)
>>> idx.eval({x: [1, 2, 3, 4, 5]})
array(2)
>>> extra_ops.searchsorted([1, 2, 3, 4, 5], 3).eval()
array(2)
>>> extra_ops.searchsorted([1, 2, 3, 4, 5], 3, side="right").eval()
array(3)
>>> extra_ops.searchsorted([1, 2, 3, 4, 5], [-10, 10, 2, 3]).eval()
array([0, 5, 1, 2])
""",
    "tensor.math.isclose": """
>>> import pytensor
>>> import numpy as np
>>> a = np.array([1e10, 1e-7], dtype="float64")
>>> b = np.array([1.00001e10, 1e-8], dtype="float64")
>>> pytensor.tensor.isclose(a, b).eval()
array([ True, False])
>>> a = np.array([1e10, 1e-8], dtype="float64")
>>> b = np.array([1.00001e10, 1e-9], dtype="float64")
>>> pytensor.tensor.isclose(a, b).eval()
array([ True,  True])
>>> a = np.array([1e10, 1e-8], dtype="float64")
>>> b = np.array([1.0001e10, 1e-9], dtype="float64")
>>> pytensor.tensor.isclose(a, b).eval()
array([False,  True])
>>> a = np.array([1.0, np.nan], dtype="float64")
>>> b = np.array([1.0, np.nan], dtype="float64")
>>> pytensor.tensor.isclose(a, b).eval()
array([ True, False])
>>> a = np.array([1.0, np.nan], dtype="float64")
>>> b = np.array([1.0, np.nan], dtype="float64")
>>> pytensor.tensor.isclose(a, b, equal_nan=True).eval()
array([ True,  True])
>>> a = np.array([1.0, np.inf], dtype="float64")
>>> b = np.array([1.0, -np.inf], dtype="float64")
>>> pytensor.tensor.isclose(a, b).eval()
array([ True, False])
>>> a = np.array([1.0, np.inf], dtype="float64")
>>> b = np.array([1.0, np.inf], dtype="float64")
>>> pytensor.tensor.isclose(a, b).eval()
array([ True,  True])
""",
    "tensor.math.matvec": """
>>> import pytensor.tensor as pt
>>> A = pt.matrix("A", shape=(3, 4))  # shape (3, 4)
>>> v = pt.vector("v", shape=(4,))  # shape (4,)
>>> result = pt.matvec(A, v)  # shape (3,)
>>> result.type.shape
(3,)
>>> batched_A = pt.tensor3("A", shape=(2, 3, 4))  # shape (2, 3, 4)
>>> batched_v = pt.matrix("v", shape=(2, 4))  # shape (2, 4)
>>> result = pt.matvec(batched_A, batched_v)  # shape (2, 3)
>>> result.type.shape
(2, 3)
""",
    "tensor.math.vecdot": """
>>> import pytensor.tensor as pt
>>> x = pt.vector("x", shape=(5,))  # shape (5,)
>>> y = pt.vector("y", shape=(5,))  # shape (5,)
>>> z = pt.vecdot(x, y)  # scalar output
>>> z.type.shape
()
>>> x_batch = pt.matrix("x", shape=(3, 5))  # shape (3, 5)
>>> y_batch = pt.matrix("y", shape=(3, 5))  # shape (3, 5)
>>> z_batch = pt.vecdot(x_batch, y_batch)  # shape (3,)
>>> z_batch.type.shape
(3,)
""",
    "tensor.math.vecmat": """
>>> import pytensor.tensor as pt
>>> v = pt.vector("v", shape=(3,))
>>> A = pt.matrix("A", shape=(3, 4))
>>> result = pt.vecmat(v, A)  # shape (4,)
>>> result.type.shape
(4,)
>>> batched_v = pt.matrix("v", shape=(2, 3))
>>> batched_A = pt.tensor3("A", shape=(2, 3, 4))
>>> result = pt.vecmat(batched_v, batched_A)  # shape (2, 4)
>>> result.type.shape
(2, 4)
""",
    "tensor.random.variable.rng": """
>>> import numpy as np
>>> import pytensor
>>> import pytensor.tensor.random as ptr
>>> rng = ptr.rng("rng")
>>> next_rng, x = rng.normal()
>>> fn = pytensor.function([pytensor.In(rng, mutable=True)], [next_rng, x])
>>> rng_val = np.random.default_rng(153)
>>> rng_val, draw = fn(rng_val)
>>> draw
array(1.45769255)
>>> rng_val, draw = fn(rng_val)
>>> draw
array(0.44383835)
""",
    "tensor.random.variable.shared_rng": """
>>> import numpy as np
>>> import pytensor
>>> import pytensor.tensor.random as ptr
>>> rng = ptr.shared_rng(np.random.default_rng(153), name="rng")
>>> next_rng, x = rng.normal()
>>> fn = pytensor.function([], x, updates={rng: next_rng})
>>> fn()
array(1.45769255)
>>> rng2 = ptr.shared_rng(seed=153, name="rng2")
>>> next_rng2, x2 = rng2.normal()
>>> fn2 = pytensor.function([], x2, updates={rng2: next_rng2})
>>> fn2()
array(1.45769255)
>>> rng.set_value(np.random.default_rng(153))
>>> fn()
array(1.45769255)
>>> rng.set_value(seed=153)
>>> fn()
array(1.45769255)
""",
    "tensor.reshape.join_dims": """
>>> import pytensor.tensor as pt
>>> x = pt.tensor("x", shape=(2, 3, 4, 5))
>>> y = pt.join_dims(x)
>>> y.type.shape
(120,)
>>> y = pt.join_dims(x, start_axis=1)
>>> y.type.shape
(2, 60)
>>> y = pt.join_dims(x, start_axis=1, n_axes=2)
>>> y.type.shape
(2, 12, 5)
""",
    "tensor.reshape.split_dims": """
>>> import pytensor.tensor as pt
>>> x = pt.tensor("x", shape=(6, 4, 6))
>>> y = pt.split_dims(x, shape=(2, 3))
>>> y.type.shape
(2, 3, 4, 6)
>>> y = pt.split_dims(x, shape=(2, 3), axis=-1)
>>> y.type.shape
(6, 4, 2, 3)
""",
    "tensor.shape.shape_padaxis": """
>>> tensor = pytensor.tensor.type.tensor3()
>>> pytensor.tensor.shape_padaxis(tensor, axis=0).type.shape
(1, None, None, None)
>>> pytensor.tensor.shape_padaxis(tensor, axis=1).type.shape
(None, 1, None, None)
>>> pytensor.tensor.shape_padaxis(tensor, axis=3).type.shape
(None, None, None, 1)
>>> pytensor.tensor.shape_padaxis(tensor, axis=-1).type.shape
(None, None, None, 1)
""",
    "tensor.variable._tensor_py_operators.inc": """
>>> import pytensor.tensor as pt
>>> x = pt.ones((3,))
>>> out = x[1].inc(2)
>>> out.eval()
array([1., 3., 1.])
""",
    "tensor.variable._tensor_py_operators.set": """
>>> import pytensor.tensor as pt
>>> x = pt.ones((3,))
>>> out = x[1].set(2)
>>> out.eval()
array([1., 2., 1.])
""",
    "graph.traversal.explicit_graph_inputs": """
>>> import pytensor
>>> import pytensor.tensor as pt
>>> from pytensor.graph.traversal import explicit_graph_inputs
>>> x = pt.vector("x")
>>> y = pt.constant(2)
>>> z = pt.mul(x * y)
>>> inputs = list(explicit_graph_inputs(z))
>>> f = pytensor.function(inputs, z)
>>> print(f([1, 2, 3]))
[2. 4. 6.]
""",
    "tensor.elemwise.DimShuffle": """
>>> import pytensor.tensor as pt
>>> from pytensor.tensor.elemwise import DimShuffle
>>> DimShuffle(input_ndim=3, new_order=["x", 2, "x", 0, 1])(pt.tensor3()).type.shape
(1, None, 1, None, None)
>>> DimShuffle(input_ndim=2, new_order=[1])(pt.row()).type.shape
(None,)
>>> DimShuffle(input_ndim=0, new_order=["x"])(pt.scalar()).type.shape
(1,)
>>> m = np.arange(6.0).reshape(2, 3)
>>> DimShuffle(input_ndim=2, new_order=[0, 1])(m).eval().shape
(2, 3)
>>> np.array_equal(DimShuffle(input_ndim=2, new_order=[1, 0])(m).eval(), m.T)
True
>>> DimShuffle(input_ndim=1, new_order=["x", 0])(np.arange(3.0)).eval().shape
(1, 3)
>>> DimShuffle(input_ndim=1, new_order=[0, "x"])(np.arange(3.0)).eval().shape
(3, 1)
>>> t = np.arange(24.0).reshape(2, 3, 4)
>>> np.array_equal(DimShuffle(input_ndim=3, new_order=[2, 0, 1])(t).eval(), t.transpose(2, 0, 1))
True
>>> DimShuffle(input_ndim=2, new_order=[0, "x", 1])(m).eval().shape
(2, 1, 3)
>>> np.array_equal(DimShuffle(input_ndim=2, new_order=[1, "x", 0])(m).eval(), m.T[:, None, :])
True
""",
    "tensor.einsum.einsum": """
>>> import pytensor.tensor as pt
>>> A = pt.matrix("A")
>>> B = pt.matrix("B")
>>> C = pt.einsum("ij, jk -> ik", A, B)
>>> a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
>>> np.allclose(C.eval({A: a, B: b}), a @ b)
True
>>> A = pt.tensor("A", shape=(None, 4, 5))
>>> B = pt.tensor("B", shape=(None, 5, 6))
>>> C = pt.einsum("bij, bjk -> bik", A, B)
>>> C.type.shape
(None, 4, 6)
>>> a, b = np.arange(40.0).reshape(2, 4, 5), np.arange(60.0).reshape(2, 5, 6)
>>> np.allclose(C.eval({A: a, B: b}), a @ b)
True
>>> A = pt.tensor("A", shape=(4, None, None, None, 5))
>>> B = pt.tensor("B", shape=(5, None, None, None, 6))
>>> C = pt.einsum("i...j, j...k -> ...ik", A, B)
>>> a, b = np.arange(480.0).reshape(4, 2, 3, 4, 5), np.arange(720.0).reshape(5, 2, 3, 4, 6)
>>> np.allclose(C.eval({A: a, B: b}), np.einsum("i...j, j...k -> ...ik", a, b))
True
>>> x = pt.tensor("x", shape=(3,))
>>> y = pt.tensor("y", shape=(4,))
>>> z = pt.einsum("i, j -> ij", x, y)
>>> np.allclose(z.eval({x: np.arange(3.0), y: np.arange(4.0)}), np.outer(np.arange(3.0), np.arange(4.0)))
True
""",
    "gradient.hessian_vector_product": """
>>> from scipy.optimize import minimize
>>> from pytensor import function
>>> from pytensor.tensor import vector
>>> from pytensor.gradient import grad, hessian_vector_product
>>> x = vector("x")
>>> p = vector("p")
>>> rosen = (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
>>> rosen_jac = grad(rosen, x)
>>> rosen_hessp = hessian_vector_product(rosen, x, p)
>>> rosen_fn = function([x], rosen)
>>> rosen_jac_fn = function([x], rosen_jac)
>>> rosen_hessp_fn = function([x, p], rosen_hessp)
>>> x0 = np.array([1.3, 0.7, 0.8, 1.9, 1.2])
>>> res = minimize(
...     rosen_fn, x0, method="Newton-CG", jac=rosen_jac_fn, hessp=rosen_hessp_fn, options={"xtol": 1e-8}
... )
>>> np.allclose(res.x, 1.0, atol=1e-6)
True
""",
    "tensor.pad.pad": """
>>> import pytensor.tensor as pt
>>> a = [1, 2, 3, 4, 5]
>>> for mode, width, kwargs in [
...     ("constant", (2, 3), {"constant_values": (4, 6)}),
...     ("edge", (2, 3), {}),
...     ("linear_ramp", (2, 3), {"end_values": (5, -4)}),
...     ("maximum", (2,), {}),
...     ("mean", (2,), {}),
...     ("reflect", (2, 3), {}),
...     ("symmetric", (2, 3), {}),
...     ("wrap", (2, 3), {}),
... ]:
...     print(mode, np.array_equal(pt.pad(a, width, mode, **kwargs).eval(), np.pad(a, width, mode, **kwargs)))
constant True
edge True
linear_ramp True
maximum True
mean True
reflect True
symmetric True
wrap True
>>> a = [[1, 2], [3, 4]]
>>> np.array_equal(pt.pad(a, ((3, 2), (2, 3)), "minimum").eval(), np.pad(a, ((3, 2), (2, 3)), "minimum"))
True
""",
    "tensor.basic.tile": """
>>> import pytensor.tensor as pt
>>> A = pt.matrix("A", dtype=int)
>>> A_tiled = pt.tile(A, 2)
>>> print(A_tiled.eval({A: [[1, 2], [3, 4]]}))
[[1 2 1 2]
 [3 4 3 4]]
>>> rep0 = pt.scalar("rep0", dtype=int)
>>> A_tiled = pt.tile(A, (rep0, 1))
>>> print(A_tiled.eval({A: [[1, 2], [3, 4]], rep0: 2}))
[[1 2]
 [3 4]
 [1 2]
 [3 4]]
>>> reps = pt.vector("reps", dtype=int, shape=(2,))
>>> A_tiled = pt.tile(A, reps)
>>> print(A_tiled.eval({A: [[1, 2], [3, 4]], reps: [1, 2]}))
[[1 2 1 2]
 [3 4 3 4]]
>>> reps = pt.vector("reps", dtype=int)
>>> reps = pt.specify_shape(reps, (2,))
>>> A_tiled = pt.tile(A, reps)
>>> print(A_tiled.eval({A: [[1, 2], [3, 4]], reps: [2, 2]}))
[[1 2 1 2]
 [3 4 3 4]
 [1 2 1 2]
 [3 4 3 4]]
""",
    "tensor.extra_ops.repeat": """
>>> import pytensor.tensor as pt
>>> a = pt.arange(4).reshape((2, 2))
>>> out = pt.repeat(a, repeats=[2, 3], axis=0)
>>> print(out.eval())
[[0 1]
 [0 1]
 [2 3]
 [2 3]
 [2 3]]
>>> out = pt.repeat(a, repeats=[2, 3, 0, 1], axis=None)
>>> print(out.eval())
[0 0 1 1 1 3]
""",
    "tensor.subtensor.flip": """
>>> import pytensor
>>> import pytensor.tensor as pt
>>> x = pt.tensor("x", shape=(None, None))
>>> x_flipped = pt.flip(x, axis=0)
>>> f = pytensor.function([x], x_flipped)
>>> x = [[1, 2], [3, 4]]
>>> print(f(x))
[[3. 4.]
 [1. 2.]]
""",
    "tensor.subtensor.slice_at_axis": """
>>> import pytensor
>>> import pytensor.tensor as pt
>>> s = pt.slice_at_axis(slice(None, 1), 1)
>>> print(s)
(slice(None, None, None), slice(None, 1, None), Ellipsis)
>>> x = pt.tensor("x", shape=(None, None, None))
>>> x_sliced = x[s]
>>> f = pytensor.function([x], x_sliced)
>>> x = np.arange(27).reshape(3, 3, 3)
>>> print(f(x))
[[[ 0.  1.  2.]]
<BLANKLINE>
 [[ 9. 10. 11.]]
<BLANKLINE>
 [[18. 19. 20.]]]
""",
}

#: the docstrings whose examples make random draws
DRAWS = {"tensor.random.variable.rng", "tensor.random.variable.shared_rng"}

#: the elementwise functions' examples: the function, numpy's, the inputs' dtype and values
ELEMWISE: list[tuple[str, Callable[..., Any], str, tuple]] = [
    ("add", lambda x, y, z: x + y + z, "float64", ([1, 2], [3, 4], [5, 6])),
    ("and_", np.bitwise_and, "int32", ([1, 2, 3], [4, 2, 1])),
    ("arccos", np.arccos, "float64", ([1, 0, -1],)),
    ("arccosh", np.arccosh, "float64", ([1, 2, 10],)),
    ("arcsin", np.arcsin, "float64", ([-1, 0, 1],)),
    ("arcsinh", np.arcsinh, "float64", ([-1, 0, 1],)),
    ("arctan", np.arctan, "float64", ([-1, 0, 1],)),
    ("arctan2", np.arctan2, "float64", ([1, -1, 0, 0], [1, -1, 1, -1])),
    ("arctanh", np.arctanh, "float64", ([-0.5, 0, 0.5],)),
    ("ceil", np.ceil, "float64", ([1.5, 2.0, -3.7],)),
    ("cos", np.cos, "float64", ([0, np.pi / 2, np.pi],)),
    ("cosh", np.cosh, "float64", ([0, 1, 2],)),
    ("deg2rad", np.deg2rad, "float64", ([0, 90, 180, 270, 360],)),
    ("eq", np.equal, "float64", ([1, 2, 3], [1, 4, 3])),
    ("erf", scipy.special.erf, "float64", ([-1, 0, 1],)),
    ("erfc", scipy.special.erfc, "float64", ([-1, 0, 1],)),
    ("exp", np.exp, "float64", ([0, 1, 2],)),
    ("exp2", np.exp2, "float64", ([0, 1, 2, 3],)),
    ("expm1", np.expm1, "float64", ([-1, 0, 1],)),
    ("floor", np.floor, "float64", ([1.5, 2.0, -3.7],)),
    ("ge", np.greater_equal, "float64", ([1, 2, 3], [0, 2, 4])),
    ("gt", np.greater, "float64", ([1, 2, 3], [0, 2, 4])),
    ("invert", np.invert, "int8", ([0, 1, 2, 3],)),
    ("isfinite", np.isfinite, "float64", ([1, np.inf, -np.inf, np.nan, 3],)),
    ("isinf", np.isinf, "float64", ([1, np.inf, -np.inf, 3],)),
    ("isnan", np.isnan, "float64", ([1, np.nan, 3],)),
    ("le", np.less_equal, "float64", ([1, 2, 3], [2, 2, 2])),
    ("log", np.log, "float64", ([1, 2.7, 10],)),
    ("log10", np.log10, "float64", ([1, 10, 100, 1000],)),
    ("log1p", np.log1p, "float64", ([0, 1e-7, 1, 3],)),
    ("log2", np.log2, "float64", ([1, 2, 4, 8],)),
    ("lt", np.less, "float64", ([1, 2, 3], [2, 2, 2])),
    ("maximum", np.maximum, "float64", ([1, 3, 5], [2, 3, 4])),
    ("minimum", np.minimum, "float64", ([1, 3, 5], [2, 3, 4])),
    ("neg", np.negative, "float64", ([1, -2, 3],)),
    ("neq", np.not_equal, "float64", ([1, 2, 3], [1, 4, 3])),
    ("or_", np.bitwise_or, "int32", ([1, 2, 3], [4, 2, 1])),
    ("rad2deg", np.rad2deg, "float64", ([0, np.pi / 2, np.pi, 3 * np.pi / 2, 2 * np.pi],)),
    ("reciprocal", np.reciprocal, "float64", ([1, 2, 4],)),
    ("sign", np.sign, "float64", ([-2, 0, 3],)),
    ("sin", np.sin, "float64", ([0, np.pi / 2, np.pi],)),
    ("sinh", np.sinh, "float64", ([0, 1, 2],)),
    ("sqr", np.square, "float64", ([-2, 0, 3],)),
    ("sqrt", np.sqrt, "float64", ([0, 1, 4, 9],)),
    ("tan", np.tan, "float64", ([0, np.pi / 4, np.pi / 2 - 1e-10],)),
    ("tanh", np.tanh, "float64", ([-1, 0, 1],)),
    ("trunc", np.trunc, "float64", ([1.5, 2.0, -3.7],)),
    ("xor", np.bitwise_xor, "int32", ([1, 2, 3], [4, 2, 1])),
]


def _inputs(dtype: str, args: tuple) -> list[np.ndarray]:
    return [np.asarray(a, dtype=dtype) for a in args]


@pytest.mark.parametrize("name, ref, dtype, args", ELEMWISE, ids=[row[0] for row in ELEMWISE])
def test_elementwise_examples_against_numpy(
    name: str, ref: Callable[..., Any], dtype: str, args: tuple
) -> None:
    xs = [ft.vector(f"x{i}", dtype=dtype) for i in range(len(args))]
    f = fc.function(xs, getattr(ft, name)(*xs), mode=PY)
    vals = _inputs(dtype, args)
    assert_same(f(*vals), ref(*vals), name)


def test_elementwise_examples_compiled() -> None:
    cases = {name: (getattr(ft, name), tuple(_inputs(dtype, args))) for name, _, dtype, args in ELEMWISE}
    got = run_cases_in_one_function(cases)
    for name, ref, dtype, args in ELEMWISE:
        assert_same(got[name][0], ref(*_inputs(dtype, args)), f"{name} (C)")


# -- the doctests ---------------------------------------------------------------------------------
_SHOWN = {"array": np.array, "nan": np.nan, "inf": np.inf, "np": np}
_SHOWN.update((t, np.dtype(t)) for t in ("bool int8 int16 int32 int64 uint8 float32 float64".split()))


def _shown(text: str) -> Any:
    """The value a doctest output shows (numpy's repr, a list or tuple of them), else None."""
    try:
        return eval(text, dict(_SHOWN))
    except Exception:
        return None


def _same_values(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return (
            isinstance(a, (list, tuple))
            and isinstance(b, (list, tuple))
            and len(a) == len(b)
            and all(_same_values(x, y) for x, y in zip(a, b))
        )
    x, y = np.asarray(a), np.asarray(b)
    if x.shape != y.shape or x.dtype != y.dtype:
        return False
    if x.dtype.kind in "fc":
        return bool(np.allclose(x, y, rtol=1e-6, atol=1e-12, equal_nan=True))
    return bool(np.array_equal(x, y))


class _NumericChecker(doctest.OutputChecker):
    """The text shown, or the same numbers with the same dtype and shape (numpy prints floats
    to 8 digits and pads them to a common width)."""

    def check_output(self, want: str, got: str, optionflags: int) -> bool:
        if super().check_output(want, got, optionflags):
            return True
        shown, printed = _shown(want), _shown(got)
        return shown is not None and printed is not None and _same_values(shown, printed)


class _DrawChecker(doctest.OutputChecker):
    """Draws: the outputs a docstring shows as equal are equal, the others differ."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def check_output(self, want: str, got: str, optionflags: int) -> bool:
        if _shown(want) is None:
            return super().check_output(want, got, optionflags)
        for w, g in self.seen.items():
            if (w == want) != (g == got):
                return False
        self.seen[want] = got
        return True


def _run_doctest(
    name: str, module: Any, rename: Callable[[str], str], checker: doctest.OutputChecker
) -> None:
    test = doctest.DocTestParser().get_doctest(DOCTESTS[name], {"np": np}, name, None, 0)
    test.globs[module.__name__] = module
    for ex in test.examples:
        ex.source = rename(ex.source)
    flags = doctest.IGNORE_EXCEPTION_DETAIL | doctest.NORMALIZE_WHITESPACE
    runner = doctest.DocTestRunner(checker=checker, optionflags=flags)
    report: list[str] = []
    result = runner.run(test, out=report.append)
    assert result.failed == 0, "".join(report)


def _as_fncache(source: str) -> str:
    return re.sub(r"\bpytensor\b", "fncache", source)


@pytest.fixture
def py_linker() -> Iterator[None]:
    """Functions compiled without a mode use the Python linker (each docstring compiles a few
    small functions; the C linker runs the elementwise table above)."""
    with fc.config.change_flags(linker="py"):
        yield


@pytest.mark.parametrize("name", sorted(DOCTESTS))
def test_docstring_examples_run_in_fncache(name: str, py_linker: None) -> None:
    checker = _DrawChecker() if name in DRAWS else _NumericChecker()
    _run_doctest(name, fc, _as_fncache, checker)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", sorted(DOCTESTS))
def test_docstring_examples_show_pytensors_values(name: str) -> None:
    """The table's outputs are PyTensor's own (the bench extra installs PyTensor)."""
    pytensor = pytest.importorskip("pytensor")
    with pytensor.config.change_flags(cxx="", mode="FAST_COMPILE"):
        _run_doctest(name, pytensor, lambda s: s, _NumericChecker())


# -- what the docstrings use that fncache lacked --------------------------------------------------
#: PyTensor's tensors' methods of elementwise functions (``x.exp()``), each numpy's function
METHODS = (
    "arccos arccosh arcsin arcsinh arctan arctanh ceil cos cosh deg2rad exp exp2 expm1 floor log "
    "log10 log1p log2 rad2deg sin sinh sqrt tan tanh trunc"
).split()


def test_elementwise_methods_against_numpy() -> None:
    x = ft.dvector("x")
    f = fc.function([x], [getattr(x, name)() for name in METHODS], mode=PY)
    vals = np.array([0.25, 0.5, 0.75])
    for name, got in zip(METHODS, f(vals)):
        if name != "arccosh":  # defined from 1 up: checked below
            assert_same(got, getattr(np, name)(vals), name)
    assert_same(x.arccosh().eval({x: vals + 1.0}), np.arccosh(vals + 1.0), "arccosh")


def test_numpy_methods_searchsorted_choose_ptp_conjugate() -> None:
    x, i = ft.dvector("x"), ft.lvector("i")
    z = ft.zvector("z")
    f = fc.function(
        [x, i, z],
        [x.searchsorted([0.3, 2.0], side="right"), i.choose([x, -x]), x.ptp(), x.conjugate(), z.conjugate()],
        mode=PY,
    )
    xv, iv, zv = np.array([0.1, 0.5, 0.9]), np.array([0, 1, 0]), np.array([1 + 2j, -3j, 4])
    got = f(xv, iv, zv)
    assert_same(got[0], np.searchsorted(xv, [0.3, 2.0], side="right"))
    assert_same(got[1], iv.choose([xv, -xv]))
    assert_same(got[2], np.ptp(xv))
    assert_same(got[3], xv.conjugate())
    assert got[4].dtype == zv.dtype and np.array_equal(got[4], zv.conjugate())


@pytest.mark.parametrize(
    "build",
    [
        lambda m: ft.sum(m, axis=2),
        lambda m: ft.join(2, m, m),
        lambda m: ft.stack([m, m], axis=3),
        lambda m: ft.take(m, [0], axis=-3),
        lambda m: ft.take_along_axis(m, ft.zeros((1, 1), dtype="int64"), axis=2),
        lambda m: ft.cumsum(m, axis=2),
    ],
    ids=["sum", "join", "stack", "take", "take_along_axis", "cumsum"],
)
def test_an_axis_out_of_bounds_raises_numpys_axis_error(build: Callable[[Any], Any]) -> None:
    """numpy's ``AxisError`` (a ``ValueError`` and an ``IndexError``), as PyTensor's ``join``."""
    with pytest.raises(np.exceptions.AxisError, match="axis"):
        build(ft.dmatrix("m"))


def test_dimshuffle_op_takes_pytensors_and_theanos_arguments() -> None:
    from fncache.tensor.elemwise import DimShuffle

    op = DimShuffle(input_ndim=2, new_order=[1, "x", 0])
    assert (op.input_ndim, op.new_order) == (2, (1, "x", 0))
    assert op == DimShuffle(2, [1, "x", 0]) == DimShuffle((False, False), (1, "x", 0))
    with pytest.raises(TypeError, match="DimShuffle.*ndim 1"):
        op(ft.dvector())
    with pytest.raises(ValueError, match="invalid pattern"):
        DimShuffle(input_ndim=2, new_order=[0, 2])


# -- PyTensor's arguments fncache lacked (a comparison of the two libraries' signatures) ---------
@pytest.mark.parametrize("num", [0, 1, 2, 7])
@pytest.mark.parametrize("endpoint", [True, False])
def test_linspace_retstep_against_numpy(num: int, endpoint: bool) -> None:
    n = ft.lscalar("n")
    start = ft.fscalar("start")
    built = [
        ft.linspace(-1.5, 4, num, endpoint, True),  # numpy's positional order
        ft.linspace(-1.5, 4, n, endpoint=endpoint, retstep=True, dtype="int64", axis=0),
        ft.linspace(start, 4, n, endpoint=endpoint, retstep=True),
    ]
    f = fc.function([n, start], [v for pair in built for v in pair], mode=PY, on_unused_input="ignore")
    got = f(num, np.float32(-1.5))
    wants = [
        np.linspace(-1.5, 4, num, endpoint, True),
        np.linspace(-1.5, 4, num, endpoint=endpoint, retstep=True, dtype="int64"),
        np.linspace(np.float32(-1.5), 4, num, endpoint=endpoint, retstep=True),
    ]
    for k, (values, step) in enumerate(wants):
        assert_same(got[2 * k], values, f"linspace values {k}")
        # numpy's NaN step (no step) is a Python float; fncache's has the step's dtype always
        assert_same(
            got[2 * k + 1], np.asarray(step), f"linspace step {k}", check_dtype=not isinstance(step, float)
        )


def test_typed_constructors_take_static_sizes() -> None:
    """PyTensor's ``pt.dvector("x", shape=(3,))``: sizes where the type has none."""
    assert ft.dvector("x", shape=(3,)).type == ft.TensorType("float64", (3,))
    assert ft.fmatrix(shape=(2, None)).type == ft.TensorType("float32", (2, None))
    assert ft.fcol(shape=(4, None)).type == ft.TensorType("float32", (4, 1))
    with pytest.raises(ValueError, match=r"give 1 sizes"):
        ft.dvector(shape=(3, 4))
    with pytest.raises(ValueError, match=r"static sizes \(None, 1\) cannot change"):
        ft.fcol(shape=(2, 2))


def test_grad_clip_takes_theanos_argument_names() -> None:
    x = ft.dvector("x")
    g = fc.grad((ft.grad_clip(x, lower_bound=-1.0, upper_bound=0.5) * [4.0, -4.0, 0.25]).sum(), x)
    assert_same(g.eval({x: np.zeros(3)}), np.array([0.5, -1.0, 0.25]))


def test_identity_like_dtype_and_bincount_pytensor_arguments() -> None:
    m, i = ft.dmatrix("m"), ft.lvector("i")
    f = fc.function(
        [m, i],
        [ft.identity_like(m, dtype="int32"), ft.bincount(i, minlength=None, assert_nonneg=True)],
        mode=PY,
    )
    eye, counts = f(np.zeros((2, 3)), np.array([0, 2, 2]))
    assert_same(eye, np.eye(2, 3, dtype="int32"))
    assert_same(counts, np.bincount([0, 2, 2]))
    with pytest.raises(ValueError, match="bincount: the values must not be negative"):
        f(np.zeros((2, 3)), np.array([0, -1]))
