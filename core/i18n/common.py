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
    "queue_waiting": {"en": "Waiting for a free worker: place {place}", "zh": "正在等待空闲的工作进程：第 {place} 位"},
    "queue_busy": {
        "en": "The server is busy: every worker is taken and the queue is full. Try again in a moment.",
        "zh": "服务器繁忙：所有工作进程都在使用中且队列已满。请稍后再试。",
    },
    "queue_replaced": {
        "en": "A newer run from this page replaced this one in the queue.",
        "zh": "此页面的新运行已在队列中替换了这一次运行。",
    },
    "url_bad_value": {
        "en": "The link's value for “{name}” was not understood and is ignored: {why}",
        "zh": "链接中“{name}”的值无法识别，已忽略：{why}",
    },
    "url_why_number": {"en": "expected a whole number from {low} to {high}", "zh": "应为 {low} 到 {high} 之间的整数"},
    "url_why_choice": {"en": "expected one of {choices}", "zh": "应为以下之一：{choices}"},
    "url_why_long": {"en": "the value is too long", "zh": "值太长"},
    "url_why_program": {
        "en": "this is not a program written by the share link (it may have been cut or changed)",
        "zh": "这不是分享链接写入的程序（链接可能被截断或改动过）",
    },
    "url_why_long_program": {
        "en": "the program in this link is longer than the editor allows",
        "zh": "链接中的程序超出了编辑器允许的长度",
    },
    "url_why_names": {
        "en": "expected names of letters, digits and . _ : - separated by commas",
        "zh": "应为由字母、数字和 . _ : - 组成、以逗号分隔的名称",
    },
    "share": {"en": "Share", "zh": "分享"},
    "share_help": {
        "en": "A link to this screen: the program, the device and what is selected. Anyone who opens it sees the same.",
        "zh": "指向当前画面的链接：包括程序、设备和当前的选择。任何人打开它都会看到相同的内容。",
    },
}
