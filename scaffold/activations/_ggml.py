"""ctypes access to the ggml tensor getters that llama.cpp's evaluation callback needs."""

from __future__ import annotations

import ctypes
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray


class GgmlTensors:
    """The few ggml functions used to read a named float32 tensor out of a running graph.

    They live in `libggml-base`, which llama-cpp-python has already loaded; opening it again
    returns the same library instance, so tensors from the llama context are valid here.
    """

    def __init__(self, lib: ctypes.CDLL):
        self._name = lib.ggml_get_name
        self._name.restype, self._name.argtypes = ctypes.c_char_p, [ctypes.c_void_p]
        self._nelements = lib.ggml_nelements
        self._nelements.restype, self._nelements.argtypes = ctypes.c_int64, [ctypes.c_void_p]
        self._nrows = lib.ggml_nrows
        self._nrows.restype, self._nrows.argtypes = ctypes.c_int64, [ctypes.c_void_p]
        self._nbytes = lib.ggml_nbytes
        self._nbytes.restype, self._nbytes.argtypes = ctypes.c_size_t, [ctypes.c_void_p]
        self._contiguous = lib.ggml_is_contiguous
        self._contiguous.restype, self._contiguous.argtypes = ctypes.c_bool, [ctypes.c_void_p]
        self._get = lib.ggml_backend_tensor_get
        self._get.restype = None
        self._get.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t]

    def name(self, tensor: int) -> bytes:
        """The tensor's name (`l_out-12` for the output of block 12)."""
        return self._name(tensor) or b""

    def rows(self, tensor: int) -> NDArray[np.float32]:
        """A copy of a contiguous float32 tensor as (rows, row length): one row per token.

        Raises:
            ValueError: the tensor is not contiguous float32 (a model whose residual stream is
                kept in another type is not supported).
        """
        count, nrows = int(self._nelements(tensor)), int(self._nrows(tensor))
        if count == 0 or nrows == 0:
            return np.zeros((0, 0), dtype=np.float32)
        if int(self._nbytes(tensor)) != count * 4 or not self._contiguous(tensor):
            raise ValueError(f"tensor {self.name(tensor).decode()} is not contiguous float32")
        out = np.empty(count, dtype=np.float32)
        self._get(tensor, out.ctypes.data, 0, count * 4)
        return out.reshape(nrows, count // nrows)


@lru_cache(maxsize=1)
def ggml_tensors() -> GgmlTensors:
    """The process-wide getters, bound to llama-cpp-python's own `libggml-base`."""
    import llama_cpp

    lib_dir = Path(llama_cpp.__file__).parent / "lib"
    candidates = sorted(lib_dir.glob("libggml-base.*")) + sorted(lib_dir.glob("ggml-base.*"))
    if not candidates:
        raise OSError(f"libggml-base not found in {lib_dir}")
    return GgmlTensors(ctypes.CDLL(str(candidates[0])))
