"""Every constant that bounds work, in one place, each with its reason."""

# --- Source and parsing (sandbox layer 1) -----------------------------------
MAX_SOURCE_CHARS = 20_000  # a lesson-sized program; longer input is almost surely a paste accident or a bomb
MAX_AST_NODES = 5_000  # bounds validation and interpretation work before anything runs
MAX_AST_DEPTH = 40  # deep nesting is a parser/recursion bomb; real programs stay far below
MAX_STRING_CHARS = 1_000  # any string literal or string result
MAX_PRINT_CHARS = 50_000  # captured stdout; more is truncated with a note

# --- Execution (sandbox layer 3) ----------------------------------------------
MAX_TENSOR_ELEMENTS = 10_000_000  # per tensor, views included (expand); ~40 MB of float32
MAX_MEMORY_BYTES = 2 * 1024**3  # resident memory the worker may grow by, checked before each allocation
MAX_INT_BITS = 4_096  # Python int results (e.g. 2**10**9 is refused before it is computed)
MAX_RANGE = 10_000  # n in `for i in range(n)`
MAX_LOOP_ITERATIONS = 10_000  # total loop iterations in one program
MAX_OPS = 100_000  # interpreter steps (calls and operators) per program
MAX_TOLIST_ELEMENTS = 100_000  # .tolist() builds Python objects: far costlier than the tensor

# --- Worker process (sandbox layer 4) -------------------------------------------
WALL_TIMEOUT_S = 15.0  # a program that runs longer is killed and reported as a timeout
CPU_LIMIT_S = 30  # RLIMIT_CPU backstop in the worker (both torch threads count)
ADDRESS_SPACE_BYTES = 8 * 1024**3  # RLIMIT_AS on CPU-only workers; CUDA cannot start under it
WORKER_THREADS = 2  # torch intra-op threads per worker, the CI machine has 2 cores
SPARE_WORKERS = 1  # pre-forked workers kept ready so a request never waits for a fork

# --- Results (JSON) ------------------------------------------------------------------
MAX_JSON_ELEMENTS = 10_000  # tensors larger than this are summarised (min/max/mean/std), per DESIGN.md

# --- Playground timing panel --------------------------------------------------------
MAX_MATMUL_N = 4_096  # N x N matmul on CPU and GPU; 4096^2 float32 = 64 MB per operand

# --- Training -----------------------------------------------------------------
MAX_TRAIN_STEPS = 20_000  # one CLI run or one studio session
MAX_CHUNK_SECONDS = 0.2  # one UI chunk of training; keeps the page refreshing >= 4 times a second
MAX_UPLOAD_BYTES = 20 * 1024**2  # weight uploads (safetensors / .pt)

# --- Graph rendering ----------------------------------------------------------------
DEFAULT_NODE_BUDGET = 200  # nodes drawn on screen; repeated blocks collapse beyond it
DOT_TIMEOUT_S = 5.0  # `dot` layout of a budgeted graph
DOT_BRIEF_ELEMENTS = 6  # a node label lists at most this many numbers; bigger tensors show shape + min/max
MAX_REPEAT_PERIOD = 24  # longest op sequence searched as a repeated block (loop body, layer) when collapsing
