#!/usr/bin/env python3
"""ARM speed model (issue 16 item 5; docs/ARM.md "Speed model"). Called by scripts/arm-speed.sh.

  arm_speed.py kernels BINARY            (a) llvm-mca on each micro-kernel's inner loop
  arm_speed.py check BINARY              (a) only finds every loop and runs llvm-mca once: CI
  arm_speed.py kernels32|check32 BINARY  the same for an armv7 BINARY (armv7-neon's kernel)
  arm_speed.py count32 BINARY BLOB       (b) for an armv7 `edgebert` BINARY: instructions under
                                         qemu-arm per backend (ARM_SPEED_BACKENDS, default armv7-neon)
  arm_speed.py model BINARY BLOB...      (a) + (b) + (c): instruction counts under qemu, latency

Stdlib only. BINARY is an unstripped aarch64 `edgebert` (the release profile with
CARGO_PROFILE_RELEASE_STRIP=none: same code as the shipped binary, symbols kept).
"""
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

# --- the tables: a new micro-kernel or core is one entry -----------------------------------------

# Micro-kernels. symbol: regex on the demangled function name (objdump -C); every monomorph that
# matches is examined and the one whose inner loop has the most multiply-add instructions (the
# full MR-row tile) is kept. mac: {instruction regex: multiply-adds per instruction}; the loop's
# multiply-adds per iteration are counted from the disassembly, not assumed. without: a
# mnemonic that must not occur in the loop (tells the f32-weight monomorph from the f16 one).
# peak: which row of a core's peak table bounds it. needs: a core feature the kernel requires.
KERNELS = [
    dict(name="neon f32 4x16 fmla", backend="neon", dtype="f32",
         symbol=r"neon::gemm_f32::tile_float", without="fcvtl",
         mac={r"fmla\s+v\d+\.4s": 4}, peak="f32", needs=None),
    dict(name="neon f16w 4x16 fcvtl+fmla", backend="neon", dtype="f16",
         symbol=r"neon::gemm_f32::tile_float", within="fcvtl",
         mac={r"fmla\s+v\d+\.4s": 4}, peak="f32", needs=None),
    dict(name="neon i8 2x16 smull+sadalp", backend="neon", dtype="i8",
         symbol=r"neon::gemm_i8::tile_i8",
         mac={r"smull2?\s+v\d+\.8h": 8}, peak="i8_nodot", needs=None),
    dict(name="neon i4 2x16 smlal", backend="neon", dtype="i4",
         symbol=r"neon::gemm_i4::tile",
         mac={r"(smull|smlal)2?\s+v\d+\.8h": 8}, peak="i8_nodot", needs=None),
    dict(name="dotprod i8 4x16 sdot", backend="neon-dotprod", dtype="i8",
         symbol=r"dotprod::gemm_i8::tile",
         mac={r"sdot\s+v\d+\.4s": 16}, peak="i8_dot", needs="dotprod"),
    dict(name="i8mm i8 4x16 smmla", backend="neon-i8mm", dtype="i8",
         symbol=r"i8mm::gemm_i8::tile",
         mac={r"smmla\s+v\d+\.4s": 32}, peak="i8_mm", needs="i8mm"),
]

# Cores. mcpu: the llvm-mca scheduling model used (the nearest modelled one where LLVM has none
# of its own). ghz: the clock assumed. dot / mm: the core has dotprod / i8mm. peak: published
# multiply-adds per cycle per core (f32 = 128-bit FMLA pipes x 4; i8_dot = 128-bit SDOT pipes
# x 16; i8_nodot = SMULL/SMULL2 8-lane widening multiplies per cycle x 8; i8_mm = SMMLA, 32
# multiply-adds each, assumed at SDOT's issue rate: not re-read in Arm's guides, no network;
# the "mca peak" column shows what LLVM's model gives). ipc: instructions per cycle assumed for the cold
# code that llvm-mca is not run on (< 5 % of instructions). Sources in docs/ARM.md.
CORES = [
    dict(core="Cortex-A55", mcpu="cortex-a55", ghz=1.8, dot=True,
         peak=dict(f32=4, i8_dot=16, i8_nodot=8), ipc=1.0,
         note="own LLVM model; in-order dual issue, Q-form NEON 1/cycle"),
    dict(core="Cortex-A72", mcpu="cortex-a72", ghz=1.8, dot=False,
         peak=dict(f32=8, i8_nodot=8), ipc=1.5,
         note="Raspberry Pi 4 (1.5-1.8 GHz); LLVM models it with its Cortex-A57 model"),
    dict(core="Cortex-A76", mcpu="neoverse-n1", ghz=2.4, dot=True,
         peak=dict(f32=8, i8_dot=32, i8_nodot=8), ipc=2.0,
         note="Raspberry Pi 5; LLVM's cortex-a76 uses the A57 model, so the Neoverse N1 model "
              "(N1 is derived from A76) is used"),
    dict(core="Neoverse N1", mcpu="neoverse-n1", ghz=2.5, dot=True,
         peak=dict(f32=8, i8_dot=32, i8_nodot=8), ipc=2.0, note="AWS Graviton2"),
    dict(core="Cortex-X1", mcpu="neoverse-v1", ghz=3.0, dot=True,
         peak=dict(f32=16, i8_dot=64, i8_nodot=16), ipc=2.5,
         note="LLVM's cortex-x1 uses the A57 model, so the Neoverse V1 model (V1 is derived "
              "from X1, 4 x 128-bit NEON) is used"),
    dict(core="Neoverse V1", mcpu="neoverse-v1", ghz=2.6, dot=True, mm=True,
         peak=dict(f32=16, i8_dot=64, i8_nodot=16, i8_mm=128), ipc=2.5,
         note="AWS Graviton3 (has i8mm)"),
    dict(core="Cortex-A710", mcpu="cortex-a710", ghz=2.8, dot=True, mm=True,
         peak=dict(f32=8, i8_dot=32, i8_nodot=8, i8_mm=64), ipc=2.0,
         note="ARMv9 phone big/mid core (2022); LLVM 19's cortex-a710 gives the Neoverse N2 "
              "model's figures (N2 is derived from A710)"),
    dict(core="Neoverse N2", mcpu="neoverse-n2", ghz=3.0, dot=True, mm=True,
         peak=dict(f32=8, i8_dot=32, i8_nodot=8, i8_mm=64), ipc=2.0,
         note="Azure Cobalt 100, Alibaba Yitian 710; own LLVM model"),
]

# armv7 (32-bit) micro-kernels and cores: (a) only (`arm_speed.py kernels32 BINARY`, BINARY an armv7
# build: the kernels' rlib). LLVM 19 has no scheduling model for Cortex-A7, A8 (itineraries only)
# or A53; its cortex-a15 gives the same figures as its cortex-a9 model.
KERNELS32 = [
    dict(name="armv7-neon i8 1x8 vmull+vpadal", backend="armv7-neon", dtype="i8",
         symbol=r"arm::neon::gemm_i8", mac={r"vmull\.s8\s+q\d+": 8}, peak="i8_nodot", needs=None),
]
CORES32 = [
    dict(core="Cortex-A15", mcpu="cortex-a15", ghz=1.8, peak=dict(i8_nodot=8),
         note="armv7 boards and old phones; LLVM's cortex-a15 = its Cortex-A9 model (in order)"),
    dict(core="Cortex-A72 (AArch32)", mcpu="cortex-a72", ghz=1.8, peak=dict(i8_nodot=8),
         note="Raspberry Pi 4 with the 32-bit Raspberry Pi OS; LLVM's Cortex-A57 model"),
]

# Backends run under qemu for the instruction count, and the qemu core each needs.
# (generic is left out by default: its trace under qemu takes longer than the others together;
# ARM_SPEED_BACKENDS=generic,neon,neon-dotprod adds it.)
QEMU_CPU = {"generic": "cortex-a72", "neon": "cortex-a72", "neon-dotprod": "cortex-a76",
            "neon-i8mm": "max"}
# Backends whose f32 path is another's (dotprod/mod.rs, i8mm/mod.rs: "f32/f16 GEMM is the plain
# NEON one"): the f32 blob is traced once, with that one.
SAME_F32 = {"neon-dotprod": "neon", "neon-i8mm": "neon"}
BACKENDS = [(b, QEMU_CPU[b]) for b in
            os.environ.get("ARM_SPEED_BACKENDS", "neon-i8mm,neon-dotprod,neon").split(",")]


def runs(core, kernel_or_backend):
    """Whether `core` has what the kernel (its `needs`) or backend requires."""
    need = kernel_or_backend if isinstance(kernel_or_backend, str) else kernel_or_backend["needs"]
    need = {"neon-dotprod": "dotprod", "neon-i8mm": "i8mm"}.get(need, need)
    return need is None or need not in ("dotprod", "i8mm") or bool(
        core.get("dot") if need == "dotprod" else core.get("mm"))


# --- tools ---------------------------------------------------------------------------------------

def which_mca():
    for tool in ("llvm-mca-19", "llvm-mca-18", "llvm-mca-17", "llvm-mca-16", "llvm-mca-15",
                 "llvm-mca-14", "llvm-mca"):
        for d in os.environ.get("PATH", "").split(":"):
            if d and os.access(os.path.join(d, tool), os.X_OK):
                return tool
    sys.exit("arm-speed: llvm-mca not found (apt-get install llvm-19, or llvm for llvm-mca 14)")


MCA = None


def mca_version():
    out = subprocess.run([MCA, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"LLVM version (\S+)", out)
    return m.group(1) if m else "?"


ARCH32 = False


def objdump_cmd():
    tools = ("arm-linux-gnueabihf-objdump",) if ARCH32 else ("aarch64-linux-gnu-objdump",)
    for tool in tools + ("llvm-objdump-19", "llvm-objdump-14"):
        for d in os.environ.get("PATH", "").split(":"):
            if d and os.access(os.path.join(d, tool), os.X_OK):
                return tool
    sys.exit("arm-speed: aarch64-linux-gnu-objdump not found (apt-get install binutils-aarch64-linux-gnu)")


# --- disassembly ---------------------------------------------------------------------------------

FUNC_RE = re.compile(r"^([0-9a-f]+) <(.*)>:$")
INSN_RE = re.compile(r"^\s*([0-9a-f]+):\s+(.*)$")


def disassemble(binary):
    """{function name: [(address, text)]} and {address: text} for every code section."""
    out = subprocess.run([objdump_cmd(), "-d", "-C", "--no-show-raw-insn", binary],
                         capture_output=True, text=True, check=True).stdout
    funcs, cur, by_addr, owner = {}, None, {}, {}
    for line in out.splitlines():
        m = FUNC_RE.match(line)
        if m:
            cur = m.group(2)
            funcs.setdefault(cur, []).append([])
            continue
        m = INSN_RE.match(line)
        if m and cur is not None:
            addr, text = int(m.group(1), 16), re.split(r"//|\s@\s", m.group(2))[0].strip()
            funcs[cur][-1].append((addr, text))
            by_addr[addr] = text
            owner[addr] = cur
    return funcs, by_addr, owner


BRANCH_RE = re.compile(r"^(b\.\w+|b(?:eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le)?|cbn?z|tbn?z)"
                       r"\s+(.*?)([0-9a-f]+) <.*>$")


def to_mca(text):
    """One objdump instruction as llvm-mca input (branch targets become a label)."""
    m = BRANCH_RE.match(text)
    if m:
        return f"{m.group(1)} {m.group(2)}.Ltarget"
    return re.sub(r"\s+<.*>$", "", text)


def loops(body):
    """(start index, end index) of each backward branch's loop in one function body."""
    index = {a: i for i, (a, _) in enumerate(body)}
    found = []
    for i, (addr, text) in enumerate(body):
        m = BRANCH_RE.match(text)
        if m:
            target = int(m.group(3), 16)
            if target <= addr and target in index:
                found.append((index[target], i))
    return found


def mac_count(insns, mac):
    return sum(n for _, t in insns for pat, n in mac.items() if re.match(pat, t))


def find_kernel_loop(funcs, k):
    """The inner loop of kernel k: the smallest loop with the most multiply-adds. Every innermost
    loop with as many multiply-adds (other monomorphs: i8mm's 3- and 4-row tiles both run two
    row pairs) is kept in `heads` as (first, last address): the run's iterations and
    instructions are counted over all of them."""
    best, same = None, []
    for name, bodies in funcs.items():
        if not re.search(k["symbol"], name):
            continue
        for body in bodies:
            texts = " ".join(t for _, t in body)
            if k.get("without") and k["without"] in texts:
                continue
            if k.get("within") and k["within"] not in texts:
                continue
            found = loops(body)
            for s, e in found:
                if any(s <= s2 and e2 <= e and (s2, e2) != (s, e) for s2, e2 in found):
                    continue  # not innermost (armv7: the loop around both half-panel calls)
                insns = body[s:e + 1]
                macs = mac_count(insns, k["mac"])
                if macs == 0:
                    continue
                key = (macs, -len(insns))
                if best is None or macs > best[0][0]:
                    same = []
                if best is None or key > best[0]:
                    best = (key, name, insns)
                if macs == best[0][0]:
                    same.append((insns[0][0], insns[-1][0]))
    if best is None:
        return None
    # Overlapping loops (a loop whose body branches, rotated into two backward branches) are one.
    heads = []
    for first, last in sorted(same):
        if heads and first <= heads[-1][1]:
            heads[-1] = (heads[-1][0], max(last, heads[-1][1]))
        else:
            heads.append((first, last))
    return dict(function=best[1], insns=best[2], macs=best[0][0], heads=heads)


# --- llvm-mca ------------------------------------------------------------------------------------

def run_mca(mcpu, regions, iterations=200):
    """Cycles per iteration of each region ([(name, [instruction text])]), in order."""
    src = []
    for name, insns in regions:
        src.append(f"# LLVM-MCA-BEGIN {name}")
        src.append(".Ltarget:")
        src.extend(to_mca(t) for _, t in insns)
        src.append("# LLVM-MCA-END")
    with tempfile.NamedTemporaryFile("w", suffix=".s", delete=False) as f:
        f.write("\n".join(src) + "\n")
        path = f.name
    try:
        target = (["-mtriple=armv7-linux-gnueabihf", "-mattr=+neon"] if ARCH32 else
                  ["-mtriple=aarch64", "-mattr=+neon,+dotprod,+fullfp16,+i8mm"])
        r = subprocess.run([MCA, f"-mcpu={mcpu}"] + target + [f"-iterations={iterations}",
                            path] + skip_flag(), capture_output=True, text=True)
    finally:
        os.unlink(path)
    if r.returncode != 0:
        raise RuntimeError(f"llvm-mca -mcpu={mcpu} failed: {r.stderr.strip()[:2000]}")
    cycles = [int(c) for c in re.findall(r"Total Cycles:\s+(\d+)", r.stdout)]
    if len(cycles) != len(regions):
        raise RuntimeError(f"llvm-mca returned {len(cycles)} regions for {len(regions)}")
    return [c / iterations for c in cycles]


SKIP = None


def skip_flag():
    """Hot blocks may hold instructions llvm-mca cannot schedule (svc, mrs): skip them where
    this llvm-mca can (15+), else fail loudly."""
    global SKIP
    if SKIP is None:
        h = subprocess.run([MCA, "--help"], capture_output=True, text=True).stdout
        SKIP = ["--skip-unsupported-instructions=any"] if "=any" in h else []
    return SKIP


def kernel_table(binary, strict=True):
    funcs, _, _ = disassemble(binary)
    found = []
    for k in (KERNELS32 if ARCH32 else KERNELS):
        loop = find_kernel_loop(funcs, k)
        if loop is None:
            msg = f"arm-speed: no inner loop found for kernel '{k['name']}' (symbol /{k['symbol']}/)"
            if strict:
                sys.exit(msg)
            print(msg, file=sys.stderr)
            continue
        found.append((k, loop))
    rows = []
    for core in (CORES32 if ARCH32 else CORES):
        regions = [(k["name"].replace(" ", "_"), loop["insns"]) for k, loop in found
                   if runs(core, k)]
        cyc = run_mca(core["mcpu"], regions)
        peaks = mca_peaks(core)
        it = iter(cyc)
        for k, loop in found:
            if not runs(core, k):
                continue
            c = next(it)
            macs_per_cycle = loop["macs"] / c
            peak = core["peak"][k["peak"]]
            rows.append(dict(core=core, kernel=k, loop=loop, cycles=c, mpc=macs_per_cycle,
                             peak=peak, eff=macs_per_cycle / peak,
                             mca_peak=peaks[k["peak"]]))
    return found, rows


# What llvm-mca itself believes the peak is: 12 independent multiply-adds of each kind.
SYNTHETIC = dict(
    f32=([f"fmla v{i}.4s, v{12 + i % 4}.4s, v16.s[{i % 4}]" for i in range(12)], 4),
    i8_dot=([f"sdot v{i}.4s, v{12 + i % 4}.16b, v16.16b" for i in range(12)], 16),
    i8_nodot=([f"smull{'2' if i % 2 else ''} v{i}.8h, v{12 + i % 4}.{'16b' if i % 2 else '8b'},"
               f" v16.{'16b' if i % 2 else '8b'}" for i in range(12)], 8),
    i8_mm=([f"smmla v{i}.4s, v{12 + i % 4}.16b, v16.16b" for i in range(12)], 32),
)
SYNTHETIC32 = dict(i8_nodot=([f"vmull.s8 q{i % 6}, d{12 + i % 4}, d{16 + i % 4}" for i in range(12)], 8))


def mca_peaks(core):
    synthetic = SYNTHETIC32 if ARCH32 else SYNTHETIC
    kinds = [k for k in synthetic if k in core["peak"]]
    cyc = run_mca(core["mcpu"], [(k, [(0, t) for t in synthetic[k][0]]) for k in kinds])
    return {k: len(synthetic[k][0]) * synthetic[k][1] / c for k, c in zip(kinds, cyc)}


def print_kernels(found, rows):
    print(f"(a) micro-kernel inner loops, llvm-mca {mca_version()} ({MCA})")
    for k, loop in found:
        print(f"  {k['name']:28} {len(loop['insns']):3} instructions, {loop['macs']:4} multiply-adds"
              f" per iteration  [{loop['function']} @ {loop['insns'][0][0]:#x}]")
    print(f"  {'core (mca model)':32} {'kernel':28} {'cyc/iter':>8} {'MAC/cyc':>8} {'peak':>5} {'eff':>5} {'mca peak':>8}")
    for r in rows:
        c = r["core"]
        print(f"  {c['core'] + ' (' + c['mcpu'] + ')':32} {r['kernel']['name']:28} {r['cycles']:8.2f}"
              f" {r['mpc']:8.2f} {r['peak']:5} {100 * r['eff']:4.0f}% {r['mca_peak']:8.1f}")
    print("  peak: published multiply-adds/cycle (docs/ARM.md); mca peak: what the llvm-mca model"
          " gives 12 independent fmla / sdot / smull{,2}")


# --- (b) instruction counts under qemu -----------------------------------------------------------

def first_load(binary):
    """The link address of the binary's first loadable segment (qemu logs where it went)."""
    out = subprocess.run(["readelf", "-lW", binary], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"LOAD\s+0x[0-9a-f]+\s+0x([0-9a-f]+)", out).group(1), 16)


def trace(binary, backend, cpu, args):
    """{tb pc (link address): [instructions per execution, executions]} of one qemu run."""
    env = dict(os.environ, EDGEBERT_KERNELS=backend, QEMU_CPU=cpu, RAYON_NUM_THREADS="1")
    tmp = tempfile.mkdtemp()
    fifo = os.path.join(tmp, "log")
    os.mkfifo(fifo)
    qemu, loader, prefix = (("qemu-arm-static", "/lib/ld-linux-armhf.so.3", "/usr/arm-linux-gnueabihf")
                            if ARCH32 else
                            ("qemu-aarch64-static", "/lib/ld-linux-aarch64.so.1", "/usr/aarch64-linux-gnu"))
    cmd = [qemu, "-d", "page,in_asm,exec,nochain", "-D", fifo]
    if not os.path.exists(loader):
        cmd += ["-L", prefix]
    proc = subprocess.Popen(cmd + [binary] + args, env=env, stdout=subprocess.DEVNULL)
    size, execs = {}, collections.Counter()
    cur, n, entry = None, 0, None
    with open(fifo, "rb", buffering=1 << 20) as log:
        for line in log:
            if line.startswith(b"Trace "):
                pc = int(line.split(b"/", 2)[1], 16)
                execs[pc] += 1
            elif line.startswith(b"0x"):
                n += 1
            elif line.startswith(b"IN:"):
                cur, n = None, 0
            elif line.startswith(b"--") or line == b"\n":
                pass
            elif entry is None and line.startswith(b"start_code"):
                entry = int(line.split()[-1], 16)  # the main binary's load address
            if cur is None and line.startswith(b"0x") and n == 1:
                cur = int(line.split(b":", 1)[0], 16)
            if line == b"\n" and cur is not None:
                size[cur] = n
                cur = None
    rc = proc.wait()
    os.unlink(fifo)
    os.rmdir(tmp)
    if rc != 0:
        sys.exit(f"arm-speed: {backend} run under qemu failed (exit {rc})")
    base = (entry - first_load(binary)) if entry is not None else 0
    return {pc - base: [size.get(pc, 0), c] for pc, c in execs.items()}


def cached_trace(binary, backend, cpu, blob, text):
    """trace() of `embed BLOB TEXT`, cached next to the blob (keyed by binary, blob, backend)."""
    out = os.path.join(os.path.dirname(os.path.abspath(blob)),
                       f"trace.{backend}.{os.path.basename(blob).split('.')[1]}.json")
    if (os.path.exists(out) and os.path.getmtime(out) > os.path.getmtime(binary)
            and os.path.getmtime(out) > os.path.getmtime(blob)):
        with open(out) as f:
            return {int(k): v for k, v in json.load(f).items()}
    t = trace(binary, backend, cpu, ["embed", blob, text])
    with open(out, "w") as f:
        json.dump({str(k): v for k, v in t.items()}, f)
    return t


# The inference's code: the kernels, the engine, and what is outside the binary (libc, libm, the
# loader: "?"). The CLI, the tokenizer and JSON parsing of the blob's metadata are left out.
INFERENCE_RE = re.compile(r"^<?(edgebert_kernels|edgebert_engine|\?)")


def estimate(binary, blob, text, found, rows, owner):
    """Per backend: kernel loop iterations (executions of the block at each loop's head) and the
    other instructions of the inference (engine and kernels code, libm/libc)."""
    results = []
    for backend, cpu in BACKENDS:
        if ".f32." in os.path.basename(blob) and backend in SAME_F32:
            continue
        counts = cached_trace(binary, backend, cpu, blob, text)
        by_fn = collections.Counter()
        for pc, (n, c) in counts.items():
            by_fn[owner.get(pc, "?")] += n * c
        total = sum(by_fn.values())
        inference = sum(v for f, v in by_fn.items() if INFERENCE_RE.match(f))
        loops = []
        for k, loop in found:
            # Blocks starting at a head, and blocks falling into it from before (the first
            # iteration of each call, when the loop is entered without a branch).
            iters = sum(c for head, _ in loop["heads"] for pc, (n, c) in counts.items()
                        if pc <= head < pc + 4 * n)
            # The instructions executed in the loops' blocks (a loop with a branch inside runs
            # fewer than its length).
            insns = sum(n * c for head, last in loop["heads"] for pc, (n, c) in counts.items()
                        if head <= pc <= last)
            if iters:
                loops.append(dict(kernel=k, loop=loop, iters=iters, insns=insns))
        results.append(dict(backend=backend, total=total, inference=inference, loops=loops,
                            top=by_fn.most_common(8)))
    return results


def model(binary, blobs, text):
    found, rows = kernel_table(binary)
    print_kernels(found, rows)
    print()
    _, _, owner = disassemble(binary)
    cyc = {(r["core"]["core"], r["kernel"]["name"]): r["cycles"] for r in rows}
    table = []
    for blob in blobs:
        res = estimate(binary, blob, text, found, rows, owner)
        print(f"(b) instructions of `edgebert embed {os.path.basename(blob)}` (one text, 128 tokens)"
              " under qemu")
        for r in res:
            loop_insns = sum(lp["insns"] for lp in r["loops"])
            print(f"  {r['backend']:13} {r['total'] / 1e6:8.1f} M in all, {r['inference'] / 1e6:8.1f} M"
                  f" in kernels+engine+libc (the inference), of them {loop_insns / 1e6:8.1f} M in"
                  " micro-kernel inner loops:")
            for lp in r["loops"]:
                print(f"      {lp['kernel']['name']:28} {lp['iters'] / 1e6:8.2f} M iterations x "
                      f"{lp['insns'] / lp['iters']:.0f} = {lp['insns'] / 1e6:8.1f} M instructions, "
                      f"{lp['iters'] * lp['loop']['macs'] / 1e9:.3f} G multiply-adds")
            for f, v in r["top"][:6]:
                print(f"      {100 * v / r['total']:5.1f} %  {f[:100]}")
        for core in CORES:
            for r in res:
                if not runs(core, r["backend"]):
                    continue
                kcyc = sum(lp["iters"] * cyc[(core["core"], lp["kernel"]["name"])] for lp in r["loops"])
                rest = r["inference"] - sum(lp["insns"] for lp in r["loops"])
                rcyc = rest / core["ipc"]
                table.append(dict(blob=os.path.basename(blob), core=core, backend=r["backend"],
                                  ms=(kcyc + rcyc) / (core["ghz"] * 1e6),
                                  kms=kcyc / (core["ghz"] * 1e6), rms=rcyc / (core["ghz"] * 1e6)))
        print()
    return rows, table


def count32(binary, blob, text, backends):
    """(b) for armv7 (no llvm-mca step: the row kernels are not multiply-add loops): the
    instructions of `edgebert embed BLOB TEXT` under qemu-arm as a Cortex-A15 per backend, in all,
    in the inference (kernels + engine + libc, as `estimate`) and in its top functions."""
    _, _, owner = disassemble(binary)
    print(f"(b) instructions of `edgebert embed {os.path.basename(blob)}` (one text, "
          f"{len(text.split()) + 2} tokens) under qemu-arm -cpu cortex-a15, one thread")
    for backend in backends:
        counts = trace(binary, backend, "cortex-a15", ["embed", blob, text])
        by_fn = collections.Counter()
        for pc, (n, c) in counts.items():
            by_fn[owner.get(pc, "?")] += n * c
        total = sum(by_fn.values())
        inference = sum(v for f, v in by_fn.items() if INFERENCE_RE.match(f))
        print(f"  {backend:13} {total / 1e6:8.1f} M in all, {inference / 1e6:8.1f} M in kernels+engine+libc"
              " (the inference); top functions:")
        for f, v in by_fn.most_common(10):
            print(f"      {v / 1e6:8.1f} M {100 * v / total:5.1f} %  {f[:100]}")


def print_table(rows, table):
    print("(c) estimated one-core latency, all-MiniLM-L6-v2, seq 128, batch 1")
    print(f"  {'core':12} {'GHz':>4} {'mca model':12} {'blob':27} {'backend':13} {'ms':>7}"
          f" {'loops ms':>8} {'rest ms':>7}")
    for t in table:
        c = t["core"]
        print(f"  {c['core']:12} {c['ghz']:4.1f} {c['mcpu']:12} {t['blob']:27} {t['backend']:13}"
              f" {t['ms']:7.1f} {t['kms']:8.1f} {t['rms']:7.1f}")
    print()
    print("  int8 vs f32 per core (fastest backend each):")
    by = collections.defaultdict(dict)
    for t in table:
        key = "f32" if ".f32." in t["blob"] else "i8"
        cur = by[t["core"]["core"]].get(key)
        if cur is None or t["ms"] < cur["ms"]:
            by[t["core"]["core"]][key] = t
    for core, d in by.items():
        if "i8" in d and "f32" in d:
            print(f"  {core:12} f32 {d['f32']['ms']:7.1f} ms ({d['f32']['backend']}), int8 "
                  f"{d['i8']['ms']:7.1f} ms ({d['i8']['backend']}): f32 / int8 = "
                  f"{d['f32']['ms'] / d['i8']['ms']:.2f}")
    print()
    print("  assumptions: micro-kernel inner loops at llvm-mca's cycles per iteration (all loads")
    print("  hitting L1), iterations counted under qemu; every other instruction of the inference")
    print("  (tile set-up and epilogue, quantization, attention, layer norm, GELU, libc/libm)")
    print("  at the cold-code IPC below; one core; clocks:")
    for c in CORES:
        print(f"    {c['core']:12} {c['ghz']} GHz, mca -mcpu={c['mcpu']}, rest IPC {c['ipc']}; {c['note']}")


def main():
    global MCA
    MCA = os.environ.get("LLVM_MCA") or which_mca()
    cmd, binary = sys.argv[1], sys.argv[2]
    global ARCH32
    if cmd in ("check32", "kernels32", "count32"):
        ARCH32, cmd = True, cmd[:-2]
    if cmd == "check":
        found, rows = kernel_table(binary)
        print_kernels(found, rows)
    elif cmd == "kernels":
        found, rows = kernel_table(binary)
        print_kernels(found, rows)
    elif cmd == "count":
        backends = os.environ.get("ARM_SPEED_BACKENDS", "armv7-neon").split(",")
        count32(binary, sys.argv[3], os.environ["ARM_SPEED_TEXT"], backends)
    elif cmd == "model":
        text = os.environ["ARM_SPEED_TEXT"]
        rows, table = model(binary, sys.argv[3:], text)
        print_table(rows, table)
    else:
        sys.exit(f"arm_speed.py: unknown command {cmd}")


if __name__ == "__main__":
    main()
