"""Strings of the Tensor Playground page."""

STRINGS: dict[str, dict[str, str]] = {
    "pg_title": {"en": "Tensor Playground", "zh": "张量游乐场"},
    "pg_intro": {
        "en": "Write a few lines of PyTorch and run them: every variable appears below with its shape, dtype, "
        "device and values. Programs run in a locked-down sandbox; random numbers are seeded, so a run is repeatable.",
        "zh": "写几行 PyTorch 代码并运行：每个变量的形状、数据类型、设备和数值都会显示在下方。"
        "程序在受限的沙箱中运行；随机数已固定种子，所以每次运行结果相同。",
    },
    "pg_examples": {"en": "Examples", "zh": "示例"},
    "pg_editor": {"en": "Program", "zh": "程序"},
    "pg_editor_help": {
        "en": "Ctrl+Enter (⌘+Enter) runs. A safe subset of Python: torch functions, tensors, for/if, print.",
        "zh": "按 Ctrl+Enter（⌘+Enter）运行。支持安全的 Python 子集：torch 函数、张量、for/if、print。",
    },
    "pg_output": {"en": "Printed output", "zh": "打印输出"},
    "pg_same_as": {"en": "the same tensor as {name}", "zh": "与 {name} 是同一个张量"},
    "pg_variables": {"en": "Variables", "zh": "变量"},
    "pg_nothing": {
        "en": "The program ran; it defined no variables and printed nothing.",
        "zh": "程序已运行，但没有定义变量，也没有打印任何内容。",
    },
    "col_name": {"en": "name", "zh": "名称"},
    "col_shape": {"en": "shape", "zh": "形状"},
    "col_device": {"en": "device", "zh": "设备"},
    "pg_timing_title": {"en": "CPU vs GPU: time a matrix multiplication", "zh": "CPU 与 GPU：矩阵乘法计时"},
    "pg_timing_help": {
        "en": "Times the same N×N float32 matmul on the CPU and on the selected GPU (median of 5, after a warm-up, "
        "with CUDA synchronisation so the GPU figure is real).",
        "zh": "在 CPU 和所选 GPU 上对同一个 N×N float32 矩阵乘法计时（预热后取 5 次中位数，并做 CUDA 同步，保证 GPU 时间真实）。",
    },
    "pg_timing_run": {"en": "Time it", "zh": "开始计时"},
    "pg_timing_running": {"en": "Timing…", "zh": "计时中…"},
    "pg_timing_cpu": {"en": "CPU ({threads} threads)", "zh": "CPU（{threads} 线程）"},
    "pg_timing_no_gpu": {
        "en": "This server has no GPU, so only the CPU figure is shown.",
        "zh": "此服务器没有 GPU，只显示 CPU 的时间。",
    },
    "pg_timing_speedup": {"en": "The GPU was {x:.1f}× faster for N = {n}.", "zh": "N = {n} 时 GPU 快 {x:.1f} 倍。"},
}
