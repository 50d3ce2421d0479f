"""Strings of the Graph Explorer page."""

STRINGS: dict[str, dict[str, str]] = {
    "gx_title": {"en": "Graph Explorer", "zh": "计算图探索"},
    "gx_intro": {
        "en": "Run a program and see the graph autograd recorded: every node with its forward value and the gradient "
        "that reached it. Step through backward in the exact order PyTorch's engine ran it.",
        "zh": "运行一段程序，查看自动求导记录下的计算图：每个节点都显示前向值和传到它的梯度。"
        "按 PyTorch 引擎真实的执行顺序，一步一步地走完反向传播。",
    },
    "gx_preset": {"en": "Preset", "zh": "预设"},
    "gx_run": {"en": "Run and draw", "zh": "运行并绘图"},
    "gx_budget": {"en": "Nodes on screen", "zh": "屏幕上的节点数"},
    "gx_budget_help": {
        "en": "Bigger graphs fold repeated blocks (loop bodies, layers) into one box marked xN, then hide the nodes "
        "farthest from the output.",
        "zh": "更大的计算图会把重复的结构（循环体、网络层）折叠成一个标有 xN 的框，然后隐藏离输出最远的节点。",
    },
    "gx_why": {"en": "What happened:", "zh": "发生了什么："},
    "gx_expand": {"en": "Expand folded blocks", "zh": "展开折叠的结构"},
    "gx_graph": {"en": "Computation graph", "zh": "计算图"},
    "gx_legend": {
        "en": "Blue: leaves (your tensors). Grey: operations, named by their grad_fn. Amber: outputs. "
        "Green: gradient already computed. Red: the step backward is at now. Blue numbers are values, red are grads.",
        "zh": "蓝色：叶子张量（你创建的张量）。灰色：运算，以其 grad_fn 命名。琥珀色：输出。"
        "绿色：梯度已计算。红色：反向传播当前所在的一步。蓝色数字是值，红色数字是梯度。",
    },
    "gx_stepper": {"en": "Backward, step by step", "zh": "逐步反向传播"},
    "gx_prev": {"en": "Previous step", "zh": "上一步"},
    "gx_next": {"en": "Next step", "zh": "下一步"},
    "gx_prev_btn": {"en": "Back", "zh": "后退"},
    "gx_next_btn": {"en": "Next", "zh": "下一步"},
    "gx_step": {"en": "Step", "zh": "步骤"},
    "gx_passes": {
        "en": "This program ran backward {n} times; the steps below are from the recorded passes.",
        "zh": "这个程序执行了 {n} 次反向传播；下面的步骤来自已记录的那几次。",
    },
    "gx_pass_pick": {"en": "Open backward pass", "zh": "打开第几次反向传播"},
    "gx_pass_open": {"en": "Record pass", "zh": "记录这一次"},
    "gx_pass_help": {
        "en": "Runs the program again (it is seeded, so it repeats exactly) and records this pass in full.",
        "zh": "再运行一次程序（随机数已固定，结果完全相同），完整记录这一次反向传播。",
    },
    "gx_no_backward": {
        "en": "This program never calls backward(), so there are no steps to walk.",
        "zh": "这段程序没有调用 backward()，所以没有可以逐步查看的反向传播。",
    },
    "gx_before_backward": {
        "en": "Before backward: the graph holds forward values only.",
        "zh": "反向传播之前：计算图中只有前向值。",
    },
    "gx_step_head": {"en": "Step {k} of {n}: {name} (node {node})", "zh": "第 {k} / {n} 步：{name}（节点 {node}）"},
    "gx_no_rule": {
        "en": "Rule not described for this operation; the numbers below are what the engine computed.",
        "zh": "此运算的求导法则暂无说明；下面的数字就是引擎实际计算的结果。",
    },
    "gx_substituted": {
        "en": "The rule with this step's numbers (from its saved tensors):",
        "zh": "代入本步数值的法则（取自它保存的张量）：",
    },
    "gx_substituted_partial": {
        "en": "Inputs with more than 6 numbers per operand are not written out; they are still checked below.",
        "zh": "每个操作数超过 6 个数的输入不再逐一写出；下面仍会对它们进行核对。",
    },
    "gx_rule_agrees": {
        "en": "Recomputed from the saved tensors, the rule gives exactly what PyTorch's engine sent each input.",
        "zh": "用保存的张量重新计算，该法则给出的结果与 PyTorch 引擎传给每个输入的梯度一致。",
    },
    "gx_rule_differs": {
        "en": "The rule recomputed from the saved tensors does not match what the engine sent to input(s) {inputs}: "
        "the numbers above marked ≠ are the engine's.",
        "zh": "用保存的张量重新计算的法则与引擎传给输入 {inputs} 的梯度不一致：上面标有 ≠ 的是引擎的数值。",
    },
    "gx_incoming": {"en": "Gradient arriving (w.r.t. output {i})", "zh": "传入的梯度（对输出 {i}）"},
    "gx_outgoing": {"en": "Gradient sent to input {i}", "zh": "传给输入 {i} 的梯度"},
    "gx_inspector": {"en": "Node inspector", "zh": "节点详情"},
    "gx_node": {"en": "Node", "zh": "节点"},
    "gx_value": {"en": "Forward value", "zh": "前向值"},
    "gx_grad": {"en": "Gradient", "zh": "梯度"},
    "gx_value_at_forward": {"en": "Value at forward", "zh": "前向时的值"},
    "gx_value_now": {"en": "Now (changed later)", "zh": "现在的值（之后被修改）"},
    "gx_changed_later": {
        "en": "This leaf was changed in place after the forward pass (an update like `a -= lr * a.grad`): the ops "
        "above were computed from its value at forward, not from its value now.",
        "zh": "这个叶子在前向传播之后被原地修改过（例如 `a -= lr * a.grad` 这样的更新）："
        "图中的运算用的是它前向时的值，而不是现在的值。",
    },
    "gx_by_backward": {
        "en": "Made by a backward pass with create_graph=True: it computes a gradient, and can be differentiated "
        "again.",
        "zh": "由 create_graph=True 的反向传播创建：它计算的是梯度，还可以再次求导。",
    },
    "gx_value_note_missing": {
        "en": "Its forward value was not recorded (computed inside a library call, or beyond the recording budget).",
        "zh": "它的前向值没有被记录（在库函数内部计算，或超出了记录预算）。",
    },
    "gx_saved": {"en": "Saved for backward", "zh": "为反向传播保存的张量"},
    "gx_saved_freed": {"en": "Its saved tensors were already freed.", "zh": "它保存的张量已被释放。"},
    "gx_kind_leaf": {"en": "leaf", "zh": "叶子"},
    "gx_kind_op": {"en": "operation", "zh": "运算"},
    "gx_kind_output": {"en": "output", "zh": "输出"},
    "gx_kind_cut": {"en": "constant (cut from the graph)", "zh": "常量（已从计算图切断）"},
    "gx_cut_note": {
        "en": "This tensor was computed from the graph under {how}: it has no grad_fn, so autograd treats it as a "
        "constant and no gradient flows back through the dashed edge.",
        "zh": "这个张量是在 {how} 下由计算图中的值算出的：它没有 grad_fn，自动求导把它当作常量，梯度不会沿虚线边传回。",
    },
    "gx_input_note": {
        "en": "A batch of training data: a constant for autograd, so no gradient is computed for it.",
        "zh": "一批训练数据：对自动求导来说是常量，因此不会为它计算梯度。",
    },
    "gx_higher": {"en": "Graph of the gradients (create_graph=True)", "zh": "梯度的计算图（create_graph=True）"},
    "gx_higher_help": {
        "en": "With create_graph=True the backward pass was itself recorded: these gradients can be differentiated "
        "again.",
        "zh": "使用 create_graph=True 时，反向传播本身也被记录下来：这些梯度还可以再次求导。",
    },
    "gx_check": {"en": "Gradient check", "zh": "梯度检验"},
    "gx_check_help": {
        "en": "Re-runs the program in float64 (explicit float32/float16 dtypes included), nudging each leaf element "
        "by ±h (h = 1e-6 · max(1, |x|), larger when the loss itself is large), and compares the slope with autograd's "
        "gradient at the first backward call. The one-sided slopes are kept too: where they differ, the function has "
        "a kink there.",
        "zh": "以 float64 重新运行程序（显式写明的 float32/float16 也一并提升），把每个叶子元素分别加减 h"
        "（h = 1e-6 · max(1, |x|)，损失值本身很大时 h 也相应变大），用数值斜率与第一次 backward 时自动求导的梯度比较。"
        "同时保留左右两侧的单侧斜率：两者不同的地方，函数在该点有折点。",
    },
    "gx_check_run": {"en": "Check gradients", "zh": "检验梯度"},
    "gx_checking": {"en": "Re-running the program with nudged leaves…", "zh": "正在用扰动后的叶子重新运行程序…"},
    "gx_check_pass": {
        "en": "Autograd agrees with finite differences for every leaf.",
        "zh": "所有叶子的自动求导结果都与有限差分一致。",
    },
    "gx_check_fail": {
        "en": "Some gradients differ from finite differences (see the table).",
        "zh": "部分梯度与有限差分不一致（见下表）。",
    },
    "gx_check_explained": {
        "en": "Autograd's gradients are right, but finite differences cannot confirm every element: the reasons are "
        "below.",
        "zh": "自动求导的梯度是对的，但有限差分无法确认每一个元素：原因见下。",
    },
    "gx_f_nonfinite": {
        "en": "The checked quantity (the backward root, summed with its gradient weights) is {f} at this point itself, "
        "so no finite difference around it can be finite.",
        "zh": "被检验的量（backward 的根，按其梯度权重求和）在这一点本身就是 {f}，因此它附近的有限差分不可能是有限值。",
    },
    "gx_promoted": {
        "en": "The program asks for {dtypes}; for this check those leaves and ops ran in float64.",
        "zh": "程序中写明了 {dtypes}；本次检验中这些叶子和运算都以 float64 运行。",
    },
    "gx_note_kink": {
        "en": "{at}: not differentiable at this point ({ops}). The slope from the left is {left}, from the right "
        "{right}. Autograd returns one valid subgradient ({auto}); the central difference sees their average "
        "({num}). Both numbers are correct: they answer different questions.",
        "zh": "{at}：函数在此点不可导（{ops}）。左侧斜率为 {left}，右侧斜率为 {right}。自动求导返回其中一个合法的次梯度"
        "（{auto}）；中心差分看到的是两者的平均（{num}）。两个数都没有错：它们回答的是不同的问题。",
    },
    "gx_note_triangle": {
        "en": "{at}: {ops} reads only one triangle of the matrix. Autograd returns the symmetric gradient; nudging an "
        "element of the triangle that is never read changes nothing. For each pair a[i,j] + a[j,i] the two agree.",
        "zh": "{at}：{ops} 只读取矩阵的一个三角部分。自动求导返回对称的梯度；扰动从未被读取的那一半元素不会改变结果。"
        "对每一对 a[i,j] + a[j,i]，两者的和是一致的。",
    },
    "gx_note_domain": {
        "en": "{at}: autograd's gradient is {auto}, but the program gives inf or NaN one step (±{h}) away: the point "
        "sits at the edge of the function's domain (e.g. log near 0), so no finite difference can be taken.",
        "zh": "{at}：自动求导的梯度是 {auto}，但程序在相距一步（±{h}）的地方得到 inf 或 NaN：这个点位于函数定义域的边缘"
        "（例如 0 附近的 log），因此无法取有限差分。",
    },
    "gx_note_nonfinite_auto_inf": {
        "en": "{at}: autograd's gradient is {auto}: the function has a vertical tangent here (e.g. sqrt at 0) and is not "
        "differentiable. Finite differences give {num} (left {left}, right {right}).",
        "zh": "{at}：自动求导的梯度是 {auto}：函数在此处的切线是竖直的（例如 0 处的 sqrt），不可导。"
        "有限差分给出 {num}（左侧 {left}，右侧 {right}）。",
    },
    "gx_note_nonfinite_auto_nan": {
        "en": "{at}: autograd's gradient is NaN: some step of backward computed 0 · inf or inf − inf. Look for a "
        "derivative that is infinite at this point. Finite differences give {num}.",
        "zh": "{at}：自动求导的梯度是 NaN：反向传播的某一步算了 0 · inf 或 inf − inf。请找出在此点导数为无穷大的运算。"
        "有限差分给出 {num}。",
    },
    "gx_note_nonfinite_where": {
        "en": "{at}: autograd's gradient is NaN although the branch torch.where kept is harmless: backward of where "
        "multiplies the unused branch's gradient by 0, and 0 · inf = NaN (sqrt or log at 0 in the branch not taken). "
        "Make that branch safe before where, e.g. torch.sqrt(torch.where(x > 0, x, 1.0)). Finite differences give "
        "{num}.",
        "zh": "{at}：自动求导的梯度是 NaN，尽管 torch.where 保留的分支没有问题：where 的反向传播把未使用分支的梯度乘以 0，"
        "而 0 · inf = NaN（未被选中的分支在 0 处求了 sqrt 或 log）。请在 where 之前让该分支安全，"
        "例如 torch.sqrt(torch.where(x > 0, x, 1.0))。有限差分给出 {num}。",
    },
    "gx_note_mismatch": {
        "en": "{at}: autograd gives {auto}, finite differences {num} (left {left}, right {right}); no kink, tie, "
        "triangle or domain edge explains the difference.",
        "zh": "{at}：自动求导给出 {auto}，有限差分给出 {num}（左侧 {left}，右侧 {right}）；"
        "没有折点、并列、三角读取或定义域边缘可以解释这一差异。",
    },
    "gx_note_low_precision": {
        "en": "{at} was checked in {dtype}, not float64: its gradient and differences carry {dtype} rounding.",
        "zh": "{at} 是以 {dtype} 而不是 float64 检验的：它的梯度和差分带有 {dtype} 的舍入误差。",
    },
    "gx_note_more": {"en": "… and {n} more elements like these.", "zh": "……另有 {n} 个类似的元素。"},
    "gx_precision": {"en": "checked in", "zh": "检验精度"},
    "gx_status": {"en": "verdict", "zh": "结论"},
    "gx_status_pass": {"en": "agrees", "zh": "一致"},
    "gx_status_explained": {"en": "explained", "zh": "已解释"},
    "gx_status_fail": {"en": "differs", "zh": "不一致"},
    "gx_details": {"en": "Every checked element", "zh": "每个被检验的元素"},
    "gx_col_element": {"en": "element", "zh": "元素"},
    "gx_col_left": {"en": "left slope", "zh": "左侧斜率"},
    "gx_col_right": {"en": "right slope", "zh": "右侧斜率"},
    "gx_col_central": {"en": "central difference", "zh": "中心差分"},
    "gx_col_step": {"en": "step h", "zh": "步长 h"},
    "gx_checked": {"en": "elements checked", "zh": "检验的元素"},
    "gx_max_abs": {"en": "max abs error", "zh": "最大绝对误差"},
    "gx_max_rel": {"en": "max rel error", "zh": "最大相对误差"},
    "gx_passed": {"en": "passed", "zh": "通过"},
    "gx_no_graph": {
        "en": "No tensor in this program requires grad, so there is no graph to draw.",
        "zh": "这段程序中没有需要梯度的张量，因此没有计算图可画。",
    },
}
