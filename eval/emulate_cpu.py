"""Run a Python command on an emulated x86 CPU, to prove a CPU class this machine is not.

    python eval/emulate_cpu.py Haswell -- -m cqqa.cli models verify --only int8
    python eval/emulate_cpu.py Haswell -- eval/int8_variants.py measure --dir /tmp/int8v --texts 40

`qemu-x86_64 -cpu MODEL` (Debian's `qemu-user`) runs this virtual environment's Python with the
CPUID of MODEL: Haswell is AVX2 and FMA with no AVX512 at all, so NumPy, ONNX Runtime and torch
pick their AVX2 kernels, as on most cloud VMs of AMD Zen 2/3 and on laptops without AVX512.
Everything else (/proc/cpuinfo, the files, the network) is this machine's. It is slow (the
instructions are translated one by one: expect 20-100x), so keep to probes and a few queries;
what it measures is the vectors, never the speed. QEMU 7.2 translates AVX2 but not AVX512, so
the AVX512 classes can only be measured on real CPUs.

The first line printed is the CPU class the emulated process sees (cqqa.cpu.cpu_class); the
exit status is the command's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

IGNORED = "TCG doesn't support requested feature"  # QEMU's notes on Haswell's system-only flags


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--" or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    qemu = shutil.which("qemu-x86_64")
    if qemu is None:
        print("emulate_cpu: qemu-x86_64 is not installed; `apt-get install qemu-user` (Debian) brings it",
              file=sys.stderr)
        return 2
    python = os.path.realpath(sys.executable)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [
        str(Path(__file__).resolve().parents[1] / "src"), os.environ.get("PYTHONPATH")])),
        VIRTUAL_ENV=sys.prefix)
    # the venv's packages: a realpath'd interpreter does not find pyvenv.cfg, so name them
    env["PYTHONPATH"] += os.pathsep + os.pathsep.join(p for p in sys.path if p.endswith("site-packages"))
    command = [qemu, "-cpu", argv[0], python, "-c",
               "from cqqa.models.cpu import cpu_class; print('emulated CPU class:', cpu_class(), flush=True)"]
    seen = subprocess.run(command, env=env, capture_output=True, text=True)
    print(seen.stdout.strip() or seen.stderr.strip(), flush=True)
    process = subprocess.Popen([qemu, "-cpu", argv[0], python, *argv[2:]], env=env, stderr=subprocess.PIPE,
                               text=True)
    for line in process.stderr:
        if IGNORED not in line:
            sys.stderr.write(line)
    return process.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
