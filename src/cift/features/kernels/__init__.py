"""Compiled streaming kernels: each takes its state and returns it updated.

A kernel has the signature ``kernel(inputs, params, state, out)``: ``inputs`` is a
tuple of ``k`` float64 arrays of equal length (one per input column), ``params`` a
float64 array, ``state`` a float64 vector it updates in place, and ``out`` an
``(m, rows)`` array in which it must write every row (NaN during warm-up: the array is
not initialised). They are compiled with :func:`cift.core.jit.njit`.
"""
