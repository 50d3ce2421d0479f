"""Strings of the Lessons page (the lessons' own texts live in core/lessons.py)."""

STRINGS: dict[str, dict[str, str]] = {
    "ls_title": {"en": "Lessons", "zh": "课程"},
    "ls_intro": {
        "en": "Five short guided lessons, from your first tensor to a trained classifier. Read a step, run its code right here, answer the question, then try it in the full tools.",
        "zh": "五节简短的引导课，从第一个张量一直讲到训练好的分类器。每一步先读说明，在本页运行代码，回答小问题，再到完整的工具里动手试试。",
    },
    "ls_pick": {"en": "Lesson", "zh": "课程"},
    "ls_lesson_label": {"en": "{n}. {title}", "zh": "第 {n} 课 · {title}"},
    "ls_progress": {"en": "Step {k} of {n}", "zh": "第 {k} 步，共 {n} 步"},
    "ls_step_head": {"en": "{k}. {title}", "zh": "{k}. {title}"},
    "ls_run": {"en": "Run here", "zh": "在此运行"},
    "ls_open_playground": {"en": "Open in Tensor Playground", "zh": "在张量游乐场中打开"},
    "ls_open_graph": {"en": "Open in Graph Explorer", "zh": "在计算图探索中打开"},
    "ls_open_training": {"en": "Open in Training Studio", "zh": "在训练工作室中打开"},
    "ls_open_help_training": {
        "en": "Opens the '{preset}' preset: the same idea, trained live with charts.",
        "zh": "打开“{preset}”预设：同样的思路，边训练边看图表。",
    },
    "ls_open_help_code": {
        "en": "Opens this code in the editor there, so you can change it and explore further.",
        "zh": "把这段代码放进那里的编辑器，你可以修改它，继续探索。",
    },
    "ls_result": {"en": "Result", "zh": "运行结果"},
    "ls_result_hint": {
        "en": "Press **Run here** to see the printed output and every variable of this step's code.",
        "zh": "点“在此运行”，就能看到这一步代码打印的内容和每个变量。",
    },
    "ls_output": {"en": "Printed output", "zh": "打印输出"},
    "ls_variables": {"en": "Variables", "zh": "变量"},
    "ls_graph": {"en": "Autograd graph", "zh": "自动求导计算图"},
    "ls_graph_caption": {
        "en": "Blue boxes are leaves (your tensors), grey ones the operations autograd recorded, amber ones outputs. Blue numbers are values, red numbers gradients.",
        "zh": "蓝色方框是叶子（你创建的张量），灰色方框是自动求导记录下的运算，琥珀色方框是输出。蓝色数字是值，红色数字是梯度。",
    },
    "ls_quiz": {"en": "Check yourself", "zh": "小测验"},
    "ls_quiz_right": {"en": "Right! {why}", "zh": "答对了！{why}"},
    "ls_quiz_wrong": {"en": "Not quite. Have another look and try again.", "zh": "还不对，再想一想，换个答案试试。"},
    "ls_quiz_wrong_run": {
        "en": "Not quite. Tip: press **Run here** and look for the answer in the result.",
        "zh": "还不对。提示：点“在此运行”，在运行结果里找答案。",
    },
    "ls_quiz_agrees": {"en": "The run agrees: {place} = {value}.", "zh": "运行结果也是这样：{place} = {value}。"},
    "ls_prev": {"en": "Previous", "zh": "上一步"},
    "ls_next": {"en": "Next", "zh": "下一步"},
    "ls_next_lesson": {"en": "Next lesson", "zh": "下一课"},
    "ls_done": {
        "en": "You have finished this lesson. Well done!",
        "zh": "这一课学完了，做得好！",
    },
    "ls_all_done": {
        "en": "That was the last lesson. Keep exploring in the Playground, the Graph Explorer and the Training Studio.",
        "zh": "这是最后一课了。接下来可以在张量游乐场、计算图探索和训练工作室里继续探索。",
    },
}
