"""Strings shared by the app shell and every page."""

STRINGS: dict[str, dict[str, str]] = {
    "sidebar_device": {"en": "Device", "zh": "设备"},
    "sidebar_no_gpu": {
        "en": "This server has no GPU: everything runs on the CPU.",
        "zh": "此服务器没有 GPU：所有计算都在 CPU 上运行。",
    },
    "nav_playground": {"en": "Tensor Playground", "zh": "张量游乐场"},
    "nav_graph": {"en": "Graph Explorer", "zh": "计算图探索"},
    "nav_training": {"en": "Training Studio", "zh": "训练工作室"},
    "nav_lessons": {"en": "Lessons", "zh": "课程"},
    "run": {"en": "Run", "zh": "运行"},
    "error_kind_refused": {"en": "Not allowed", "zh": "不允许的写法"},
    "error_kind_syntax": {"en": "Syntax error", "zh": "语法错误"},
    "error_kind_runtime": {"en": "Runtime error", "zh": "运行时错误"},
    "error_kind_limit": {"en": "Limit reached", "zh": "超出限制"},
    "error_kind_timeout": {"en": "Timed out", "zh": "运行超时"},
    "error_line": {"en": "line {line}", "zh": "第 {line} 行"},
}
