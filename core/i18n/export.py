"""Strings of the export buttons (ui/export.py): programs as .py and .ipynb, training runs as .py."""

STRINGS: dict[str, dict[str, str]] = {
    "ex_download_py": {"en": "Download .py", "zh": "下载 .py 脚本"},
    "ex_download_py_help": {
        "en": "This program as a plain PyTorch script with the app's seeds; it prints the values and gradients shown here.",
        "zh": "把这个程序导出为普通的 PyTorch 脚本（随机种子与本应用相同），运行后打印这里显示的值和梯度。",
    },
    "ex_download_ipynb": {"en": "Download notebook (.ipynb)", "zh": "下载笔记本（.ipynb）"},
    "ex_download_ipynb_help": {
        "en": "The same as a Jupyter notebook: one cell per block of code, the values and gradients, and the autograd graph (with the graphviz package).",
        "zh": "同样的内容做成 Jupyter 笔记本：每段代码一个单元格，附上值和梯度，以及自动求导计算图（需要安装 graphviz 包）。",
    },
    "ex_title_playground": {"en": "Tensor Playground program", "zh": "张量游乐场程序"},
    "ex_title_graph": {"en": "Graph Explorer program", "zh": "计算图探索程序"},
    "ex_download_training": {"en": "Download this run as a .py", "zh": "把这次训练下载为 .py 脚本"},
    "ex_download_training_help": {
        "en": "A plain PyTorch script that trains the same model from the same seed and settings for the steps run so far, writes the loss curve and saves the weights.",
        "zh": "一个普通的 PyTorch 脚本：用相同的随机种子和设置训练同一个模型，步数与目前已训练的相同，并写出损失曲线、保存权重。",
    },
    "ex_training_unavailable": {
        "en": "The '{preset}' preset reads the server's data folder, so it cannot be exported as a script.",
        "zh": "“{preset}”预设要读取服务器上的数据文件夹，因此无法导出为脚本。",
    },
}
