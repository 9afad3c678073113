"""Writes fixtures/tensorfile-python.hyatt: proves that files written by the
Python side (which writes every PyTorch fixture) read back in C."""
import os

import numpy as np

import hyfile

here = os.path.dirname(os.path.abspath(__file__))
hyfile.write(
    os.path.join(here, "fixtures", "tensorfile-python.hyatt"),
    {"config": "tiny", "sigma": 2.5, "names": "sella,nasion"},
    {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3) / 4,
        "idx": np.array([[3, -1], [7, 2]], dtype=np.int32),
        "scalar": np.array(1.5, dtype=np.float32),
    },
)
