"""Every constant that bounds work, in one place, each with its reason."""

# --- Source and parsing (sandbox layer 1) -----------------------------------
MAX_SOURCE_CHARS = 20_000  # a lesson-sized program; longer input is almost surely a paste accident or a bomb
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
WORKER_THREADS = 2  # torch intra-op threads per worker, the CI machine has 2 cores
SPARE_WORKERS = 1  # pre-forked workers kept ready so a request never waits for a fork

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
MAX_TRAIN_POINTS = 5_000  # generated regression / 2-D sets; a full-batch step on them stays around a millisecond
MAX_HIDDEN_LAYERS = 6  # MLP depth; deeper nets teach nothing new here and slow every chunk
MAX_LAYER_WIDTH = 1_024  # MLP width; 3072 x 1024 (CIFAR-10 input) is about 3M weights, 12 MB
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
MAX_REPEAT_PERIOD = 24  # longest op sequence searched as a repeated block (loop body, layer) when collapsing
DEEP_FREE_STACK_BYTES = 512 * 1024**2  # C stack for freeing seen autograd chains: torch 2.13 frees them recursively
