"""Every constant that bounds work, in one place, each with its reason."""

import os


def _cores() -> int:
    """CPUs this process may run on (the container's cpuset, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _machine_memory_bytes() -> int:
    """RAM of this machine (MemTotal), or of the container when a cgroup memory limit is lower."""
    total = 0
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        pass
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    total = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                text = f.read().strip()
            if text.isdigit() and 0 < int(text) < total:
                total = int(text)
        except (OSError, ValueError):
            pass
    return total or 4 * 1024**3


# --- Source and parsing (sandbox layer 1) -----------------------------------
MAX_SOURCE_CHARS = 20_000  # a lesson-sized program; longer input is almost surely a paste accident or a bomb
MAX_LESSON_FILE_BYTES = 1_000_000  # one lesson file (the largest shipped is ~20 kB); a bigger one is a wrong file
MAX_AST_NODES = 5_000  # bounds validation and interpretation work before anything runs
MAX_AST_DEPTH = 40  # deep nesting is a parser/recursion bomb; real programs stay far below
MAX_STRING_CHARS = 1_000  # any string literal or string result
MAX_PRINT_CHARS = 50_000  # captured stdout; more is truncated with a note

# --- Execution (sandbox layer 3) ----------------------------------------------
MAX_TENSOR_ELEMENTS = 10_000_000  # per tensor, views included (expand); ~40 MB of float32
MAX_TENSOR_DIMS = 32  # torch allows thousands; values are nested lists that deep (JSON, printing, recursion)
MAX_MEMORY_BYTES = 2 * 1024**3  # resident memory the worker may grow by, checked before each allocation
MAX_INT_BITS = 4_096  # Python int results (e.g. 2**10**9 is refused before it is computed)
MAX_RANGE = 1_000_000  # n in `range(n)`; iterating it is bounded by MAX_STEPS
MAX_STEPS = 2_000_000  # loop iterations, comprehension items and function calls per program (Python-level work)
MAX_OPS = 300_000  # tensor operations per program: each one can add a node to the graph and costs bookkeeping
MAX_RECURSION = 200  # nested calls of the program's own functions (Python's RecursionError, turned into a limit)
MAX_FLOPS = 200 * 10**9  # compute budget (matmul FLOPs; elementwise ops count ELEMENTWISE_COST per element):
# about 5 s of this 2-core machine (40 GFLOP/s matmul, 0.2 G elements/s elementwise, measured)
ELEMENTWISE_COST = 200  # FLOP-equivalents per element of an op's output (memory-bound ops are ~200x slower per unit)
PLAN_CACHE_ENTRIES = 20_000  # distinct op signatures whose meta-tensor plan is remembered (cleared when full)
MAX_TOLIST_ELEMENTS = 100_000  # .tolist() builds Python objects: far costlier than the tensor
MAX_MODULES = 1_000  # layers inside one nn.Sequential, nested and repeated ones counted: forward and print walk each
MAX_SPLIT_PIECES = 10_000  # tensors from one unbind/split/chunk (looping over a tensor unbinds it whole)
MAX_TEXT_CHARS = 10 * MAX_STRING_CHARS  # a string a program builds (str(), f-strings, repeats, concatenation)

# --- Worker process (sandbox layer 4) -------------------------------------------
WALL_TIMEOUT_S = 15.0  # a program that runs longer is killed and reported as a timeout
CPU_LIMIT_S = 30  # RLIMIT_CPU backstop in the worker (both torch threads count)
ADDRESS_SPACE_BYTES = 8 * 1024**3  # RLIMIT_AS on CPU-only workers; CUDA cannot start under it
WORKER_THREADS = 1  # torch intra-op threads per worker: MAX_WORKERS workers run at once, one per core; with 2 threads
# each, 2 workers on 2 cores oversubscribe them (OpenMP spins while it waits; see benchmarks/load_test.py);
# lesson-sized tensors gain nothing from a second thread
TIMING_THREADS = _cores()  # the playground's CPU-vs-GPU matmul timing shows what the whole CPU does
SPARE_WORKERS = 1  # pre-forked workers kept ready so a request never waits for a fork
WORKER_RSS_CAP_BYTES = 4 * 1024**3  # the parent kills a worker whose RSS passes this: MAX_MEMORY_BYTES + 2 GiB of torch

# --- Admission: many students on one server (core/sandbox/pool.py, core/training/admission.py) ---------------
CORES = _cores()
MACHINE_MEMORY_BYTES = _machine_memory_bytes()
WORKER_MEMORY_FRACTION = 0.75  # of the machine's RAM, for all running workers together; the rest is the app server
# (one Streamlit process, ~0.2 GB + up to 64 MB of snapshots per training session), the fork server and the page cache
_WORKER_BUDGET = max(1, int(MACHINE_MEMORY_BYTES * WORKER_MEMORY_FRACTION) // WORKER_RSS_CAP_BYTES)
MAX_WORKERS = max(1, min(max(2, CORES), _WORKER_BUDGET))
# concurrent sandbox runs: one per core (each worker runs WORKER_THREADS torch threads; more workers than cores only
# makes everyone slower), at least 2 so one slow program never blocks the class, and never more than the RAM holds at
# every worker's cap (the RSS watchdog kills above WORKER_RSS_CAP_BYTES, so the sum of caps is a real bound)
LONG_RUN_S = 2.0  # a lesson-sized program answers well under a second (measured p95 0.6 s alone); a run still going
# after this is a long run: it gives its admission slot back to the queue and runs on at LONG_RUN_NICE, so two students'
# bombs (a CPU loop, a memory hog) cannot hold both slots of a 2-core server for the whole WALL_TIMEOUT_S
LONG_RUN_NICE = 19  # the kernel then gives the cores to short runs first (CFS weight 15 against 1024)
MAX_LONG_RUNS = max(0, min(CORES, _WORKER_BUDGET - MAX_WORKERS))  # long runs at once, inside the same memory budget
# (MAX_WORKERS + MAX_LONG_RUNS workers at WORKER_RSS_CAP_BYTES each fit in WORKER_MEMORY_FRACTION of the RAM); when
# all are taken a long run keeps its slot
MAX_QUEUED = 64  # waiting runs over all sessions (one per session); beyond, "the server is busy" at once
QUEUE_TIMEOUT_S = 90.0  # a run that waited this long for a worker gives up with "busy" instead of hanging the page
QUEUE_POLL_S = 0.25  # how often a waiting caller hears its place in the queue
TRAIN_SLOTS = max(1, CORES // 2)  # training chunks running at once in the server process (TRAIN_THREADS each):
# on 2 cores one Play may use one core, the other stays free for sandbox workers and page scripts
TRAIN_WAIT_S = 1.0  # a training frame waits at most this for a slot, then shows its place and tries next frame

# --- Results (JSON) ------------------------------------------------------------------
MAX_JSON_ELEMENTS = 10_000  # tensors larger than this are summarised (min/max/mean/std), per DESIGN.md
MAX_GRAPH_JSON_ELEMENTS = 200_000  # numbers listed over a whole graph's nodes; later nodes get summaries
MAX_ANSWER_BYTES = 5 * 1024**2  # one worker answer (JSON): beyond, detail gives way to summaries (issue: <= 5 MB)
MAX_VARIABLE_ELEMENTS = 200_000  # numbers listed over all variables; later ones get summaries
MAX_RECORDED_NODES = 4_096  # forward values kept for graph nodes (newest kept); older nodes show "not recorded"
MAX_RECORDED_BYTES = 256 * 1024**2  # bytes of tensors kept alive for those values
FULL_PASSES = 8  # backward passes recorded in full as they run; beyond, the last one is recorded by a re-run

# --- Playground timing panel --------------------------------------------------------
MAX_MATMUL_N = 4_096  # N x N matmul on CPU and GPU; 4096^2 float32 = 64 MB per operand

# --- Training -----------------------------------------------------------------
MAX_TRAIN_STEPS = 20_000  # one CLI run or one studio session
MAX_CHUNK_SECONDS = 0.2  # one UI chunk of training; keeps the page refreshing >= 4 times a second
MAX_UPLOAD_BYTES = 20 * 1024**2  # weight uploads (safetensors / .pt)
MAX_WEIGHTS_UNPACKED_BYTES = 2 * MAX_UPLOAD_BYTES  # declared (zip uncompressed / safetensors) bytes of an upload:
# torch.save stores zip entries uncompressed, so an honest file declares about its own length; a 2 MiB deflate
# bomb declaring 2 GiB is refused before anything is inflated
MAX_WEIGHTS_ZIP_ENTRIES = 10_000  # entries in a .pt zip (one per tensor + a few); a zip of millions is a bomb too
MAX_TRAIN_POINTS = 5_000  # generated regression / 2-D sets; a full-batch step on them stays around a millisecond
MAX_HIDDEN_LAYERS = 6  # MLP depth; deeper nets teach nothing new here and slow every chunk
MAX_LAYER_WIDTH = 1_024  # MLP width; 3072 x 1024 (CIFAR-10 input) is about 3M weights, 12 MB
MAX_CNN_CHANNELS = 32  # the small CNN's conv channels; 32 x 8 x 8 maps per image keep a step under ~10 ms
MAX_BATCH_SIZE = 1_024  # mini-batch rows; one step's activations stay small on a 2-core CPU
MAX_SNAPSHOT_BYTES = 64 * 1024**2  # params + optimizer state kept for replay, per trainer (per browser session)
MAX_SNAPSHOTS = 2_000  # snapshot count cap; the stride doubles (older ones thinned) when it is reached
SNAPSHOT_STRIDE = 16  # first snapshot stride: replaying any step re-runs at most this many steps at first
MAX_REPLAY_STEPS = 2_000  # re-run steps allowed to rebuild one step's graph; beyond, replay is refused
EVAL_CHUNK_ROWS = 2_048  # evaluation forward pass in pieces of this many rows (bounded activation memory)
MAX_EVAL_TRAIN_ROWS = 10_000  # training rows scored at each evaluation (CIFAR-10 has 50,000)
CIFAR_MAX_FILE_BYTES = 40 * 1024**2  # one CIFAR-10 python batch is about 31 MB; anything bigger is not one
MAX_PATH_CHARS = 4_096  # a typed folder path (Linux PATH_MAX)
PAGE_REFRESH_S = 0.25  # the training fragment's run_every while playing (4 frames a second)
MAX_STEPS_PER_FRAME = 500  # steps per UI chunk; MAX_CHUNK_SECONDS cuts a chunk short first on slow models
MAX_CHART_POINTS = 2_000  # points per curve sent to the browser each frame; longer curves are strided
TRAIN_THREADS = 1  # torch intra-op threads while training (thread-local); with the 2 cores shared by other
# sessions and sandbox workers, a second OpenMP thread made small steps 5-40x slower and CIFAR's 2x slower (measured)
BOUNDARY_GRID = 60  # decision-boundary heatmap is BOUNDARY_GRID^2 model evaluations per frame

# --- Graph rendering ----------------------------------------------------------------
DEFAULT_NODE_BUDGET = 200  # nodes drawn on screen; repeated blocks collapse beyond it
DOT_TIMEOUT_S = 5.0  # `dot` layout of a budgeted graph
DOT_BRIEF_ELEMENTS = 6  # a node label lists at most this many numbers; bigger tensors show shape + min/max
FOLD_MODULES_ABOVE = 40  # a bigger graph draws each nn.Module call as one box (expandable); smaller: in full
MAX_MODULE_CALLS = 20_000  # module calls remembered per run (a long loop keeps its latest: the graph is the last pass)
MAX_REPEAT_PERIOD = 24  # longest op sequence searched as a repeated block (loop body, layer) when collapsing
DEEP_FREE_STACK_BYTES = 512 * 1024**2  # C stack for freeing seen autograd chains: torch 2.13 frees them recursively
