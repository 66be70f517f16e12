"""Which x86 instructions this process can use, asked of the processor itself (CPUID, through
NumPy's own feature detection), not read from /proc/cpuinfo.

The embedder's speed and its int8 vectors depend on the class: torch runs bfloat16 natively only
with AVX512-BF16, and ONNX Runtime's integer kernels differ between AVX512-VNNI, AVX512 and AVX2
(on AVX2, u8 x s8 products are summed in 16 bits and can saturate). CPUID is what the libraries
themselves ask, so the answer is right inside an emulator too (`qemu-x86_64 -cpu Haswell` shows
an AVX2-only CPU while /proc/cpuinfo still describes the host): `eval/emulate_cpu.py`.
"""

from __future__ import annotations

from functools import lru_cache

# From the most capable to the least; each class is named by the instructions that set it apart.
CLASSES = ("avx512_bf16", "avx512_vnni", "avx512", "avx2", "baseline")


@lru_cache(maxsize=1)
def features() -> frozenset[str]:
    """The CPU features NumPy detected at import (CPUID and XGETBV: what the OS lets us use)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # NumPy 1.x
        from numpy.core._multiarray_umath import __cpu_features__
    return frozenset(name for name, present in __cpu_features__.items() if present)


def cpu_class(flags: frozenset[str] | None = None) -> str:
    """One of CLASSES: what decides the embedder's kernels on this CPU."""
    flags = features() if flags is None else flags
    if "AVX512F" in flags and "AVX512BW" in flags:
        if "AVX512BF16" in flags:
            return "avx512_bf16"
        return "avx512_vnni" if "AVX512VNNI" in flags else "avx512"
    return "avx2" if "AVX2" in flags and "FMA3" in flags else "baseline"


def has_bf16() -> bool:
    """Native bfloat16 matrix instructions (AVX512-BF16; every CPU with AMX has them too)."""
    return cpu_class() == "avx512_bf16"
