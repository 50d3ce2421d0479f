"""Guided lessons built on seeds 000–004: steps with an explanation, a runnable snippet, a target page and a quiz."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# --- the data model -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """One text in both UI languages (markdown)."""

    en: str
    zh: str

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


def same(text: str) -> Text:
    """A text that reads the same in both languages (numbers, code)."""
    return Text(text, text)


@dataclass(frozen=True)
class Check:
    """Where a run of the step's snippet holds the quiz's answer: `variables[name][field]` should equal `expected`.

    `field` is a key of the sandbox's variable record: "value", "grad", "shape", "dtype", "requires_grad".
    Numbers (and nested lists of numbers) compare within `tol`; anything else compares exactly.
    """

    name: str
    field: str
    expected: Any
    tol: float = 1e-4


@dataclass(frozen=True)
class Quiz:
    """A multiple-choice question: the index of the right choice and a one-line reason."""

    question: Text
    choices: tuple[Text, ...]
    answer: int
    why: Text
    check: Check | None = None


@dataclass(frozen=True)
class Target:
    """Where "try it" opens the step: the playground or the graph explorer (with the snippet), or a training preset."""

    page: str  # "playground" | "graph" | "training"
    preset: str = ""


@dataclass(frozen=True)
class Step:
    """One screen of a lesson. `graph`: a run here also draws the autograd graph."""

    title: Text
    body: Text
    code: str = ""
    target: Target | None = None
    quiz: Quiz | None = None
    graph: bool = False


@dataclass(frozen=True)
class Lesson:
    """A titled sequence of steps; `seeds` names the seed articles it teaches from."""

    key: str
    title: Text
    summary: Text
    seeds: tuple[str, ...]
    steps: tuple[Step, ...]


PLAYGROUND = Target("playground")
GRAPH = Target("graph")

# --- lesson 1: tensors, creating and inspecting (seeds 002, 003) ------------------------------------------------------

TENSORS = Lesson(
    "tensors",
    Text("Tensors: creating and inspecting", "张量：创建与查看"),
    Text(
        "What a tensor is, the ways to make one, and the four facts to check about any tensor.",
        "张量是什么、怎样创建，以及每个张量都值得查看的四项信息。",
    ),
    ("002", "003"),
    (
        Step(
            Text("What a tensor is", "张量是什么"),
            Text(
                "A **tensor** is a block of numbers that all share one type. How many axes it has is its "
                "*dimension* (`ndim`); how long it is along each axis is its *shape*.\n\n"
                "- no axis: one number on its own (a *scalar*)\n"
                "- one axis: a row of numbers (a *vector*)\n"
                "- two axes: a table (a *matrix*)\n"
                "- three or more: tables stacked up, like a batch of pictures\n\n"
                "If you have used NumPy arrays, this will feel familiar. Tensors add two powers: they can live on "
                "a GPU, and they can remember how they were computed, so PyTorch can find derivatives for you "
                "(lesson 3). Press **Run here** and compare the four tensors.",
                "**张量**是一块排列整齐的数，里面每个数的类型都一样。它有几条轴，就叫几维（`ndim`）；"
                "每条轴上各有多少个数，合起来就是它的形状（`shape`）。\n\n"
                "- 没有轴：孤零零一个数，叫*标量*\n"
                "- 一条轴：一排数，叫*向量*\n"
                "- 两条轴：一张表，叫*矩阵*\n"
                "- 三条轴及以上：把多张表摞起来，比如一批图片\n\n"
                "如果你用过 NumPy 数组，这些都不陌生。张量另有两项本领：能搬到 GPU 上计算，"
                "还能记住自己是由哪些运算得来的，于是 PyTorch 可以替你求导（第 3 课会讲）。"
                "点“在此运行”，比一比这四个张量。",
            ),
            """s = torch.tensor(3.5)               # no axis: scalar
v = torch.tensor([1., 2., 3.])      # one axis: vector
m = torch.tensor([[1, 2], [3, 4]])  # two axes: matrix
batch = torch.zeros(2, 3, 4)        # 3 axes: 2 x 3 x 4
print(s.ndim, v.ndim, m.ndim, batch.ndim)
print(batch.shape)
""",
            PLAYGROUND,
            Quiz(
                Text("What is `batch.shape`?", "`batch.shape` 是什么？"),
                (same("`torch.Size([2, 3, 4])`"), same("`torch.Size([24])`"), same("`torch.Size([4, 3, 2])`")),
                0,
                Text(
                    "The sizes you give `zeros` are the shape, axis by axis: 2 tables, 3 rows, 4 columns.",
                    "传给 `zeros` 的几个数按顺序就是各条轴的长度：2 张表、3 行、4 列。",
                ),
                Check("batch", "shape", [2, 3, 4]),
            ),
        ),
        Step(
            Text("Ways to make a tensor", "创建张量的几种方法"),
            Text(
                "Most of the time you start from a recipe rather than typing numbers:\n\n"
                "- `torch.empty` only reserves memory; the values are whatever was left there. Use it when you "
                "will overwrite every entry anyway.\n"
                "- `torch.rand` fills with random numbers between 0 and 1, `torch.zeros` and `torch.ones` with "
                "constants.\n"
                "- `torch.tensor` copies data you already have, such as a Python list.\n\n"
                "Every tensor has a **dtype**. Decimal data becomes `float32`; pass `dtype=` to choose another "
                "one. (Runs in this app are seeded, so `rand` gives the same numbers on every run.)",
                "多数时候我们不是一个个敲数字，而是按“配方”生成张量：\n\n"
                "- `torch.empty` 只划出一块内存，不做初始化，里面是原来残留的值。"
                "适合马上就要把每个位置都重新写一遍的场合。\n"
                "- `torch.rand` 用 0 到 1 之间的随机数填满；`torch.zeros`、`torch.ones` 用常数填满。\n"
                "- `torch.tensor` 把现成的数据（比如 Python 列表）复制成张量。\n\n"
                "每个张量都有**数据类型**（dtype）。小数默认是 `float32`，想要别的类型就传 `dtype=`。"
                "（本应用里的运行都固定了随机种子，所以每次运行时 `rand` 给出的数都一样。）",
            ),
            """x = torch.empty(5, 3)        # memory only, values not set
r = torch.rand(5, 3)         # uniform in [0, 1)
z = torch.zeros(5, 3, dtype=torch.long)   # whole numbers
o = torch.ones(2, 2)
d = torch.tensor([5.5, 3])   # from a Python list
print(r)
print(z.dtype, d.dtype)
""",
            PLAYGROUND,
            Quiz(
                Text("Which dtype does `z` have?", "`z` 的数据类型是什么？"),
                (same("`torch.float32`"), same("`torch.int64`"), same("`torch.bool`")),
                1,
                Text(
                    "`torch.long` is another name for `torch.int64`: 64-bit whole numbers.",
                    "`torch.long` 就是 `torch.int64` 的别名，即 64 位整数。",
                ),
                Check("z", "dtype", "int64"),
            ),
        ),
        Step(
            Text("New tensors from existing ones", "用已有的张量生成新张量"),
            Text(
                "Often a new tensor should match one you already have.\n\n"
                "- `x.new_ones(...)`, `x.new_zeros(...)` make a tensor of a **new shape** that keeps `x`'s dtype "
                "and device unless you say otherwise.\n"
                "- `torch.zeros_like(x)`, `torch.randn_like(x)` keep `x`'s **shape** (and its dtype, unless you "
                "override it).\n\n"
                "`x.size()` is the same as `x.shape`. It returns a `torch.Size`, which is a tuple, so you can "
                "unpack it into `rows, cols`.",
                "新张量常常要和手头某个张量“配套”。\n\n"
                "- `x.new_ones(...)`、`x.new_zeros(...)` 生成**新形状**的张量，"
                "除非另行指定，否则沿用 `x` 的数据类型和设备。\n"
                "- `torch.zeros_like(x)`、`torch.randn_like(x)` 沿用 `x` 的**形状**"
                "（数据类型也沿用，除非你改掉它）。\n\n"
                "`x.size()` 与 `x.shape` 是一回事，返回的 `torch.Size` 本质是元组，"
                "所以可以直接拆成 `rows, cols` 两个变量。",
            ),
            """x = torch.tensor([5.5, 3])
# a new shape and dtype, on the same device as x:
x = x.new_ones(5, 3, dtype=torch.double)
# x's shape, normal random values, dtype overridden:
y = torch.randn_like(x, dtype=torch.float)
z = torch.zeros_like(y)   # y's shape and dtype, all zeros
print(y.size())
rows, cols = y.size()     # torch.Size is a tuple
print(rows, cols, x.dtype, y.dtype)
""",
            PLAYGROUND,
            Quiz(
                Text("Which dtype does `y` have?", "`y` 的数据类型是什么？"),
                (same("`torch.float64`"), same("`torch.float32`"), same("`torch.int64`")),
                1,
                Text(
                    "`randn_like` copies x's shape, but `dtype=torch.float` replaces x's float64 with float32.",
                    "`randn_like` 沿用了 x 的形状，但 `dtype=torch.float` 把 x 的 float64 换成了 float32。",
                ),
                Check("y", "dtype", "float32"),
            ),
        ),
        Step(
            Text("Inspecting a tensor", "查看一个张量"),
            Text(
                "When something goes wrong, look at four facts first: **shape**, **dtype**, **device** and "
                "**requires_grad**. After **Run here**, the *Variables* table lists them for every variable.\n\n"
                "A batch of colour pictures is usually stored as *(batch, channels, height, width)*: CIFAR-10 "
                "images are 3 × 32 × 32. `numel()` counts every number in the tensor, and indexing with one "
                "number removes an axis.",
                "出问题时，先看四项：**形状**、**数据类型**、**设备**和 **requires_grad**。"
                "点“在此运行”后，结果里的“变量”表会列出每个变量的这四项。\n\n"
                "一批彩色图片通常按（批大小, 通道, 高, 宽）的顺序存放，CIFAR-10 的每张图是 3 × 32 × 32。"
                "`numel()` 数出张量里一共有多少个数；用单个整数做索引会去掉一条轴。",
            ),
            """images = torch.rand(4, 3, 32, 32)  # 4 colour pictures
print(images.shape, images.dtype)
print(images.device, images.requires_grad)
n = images.numel()
first = images[0]    # one picture: 3 x 32 x 32
red = images[:, 0]   # the red channel of every picture
print(n, first.shape, red.shape)
""",
            PLAYGROUND,
            Quiz(
                Text(
                    "How many numbers does `images` hold (the value of `n`)?",
                    "`images` 一共有多少个数（即 `n` 的值）？",
                ),
                (same("128"), same("3,072"), same("12,288")),
                2,
                Text(
                    "numel multiplies the sizes: 4 × 3 × 32 × 32 = 12,288.",
                    "numel 把各轴长度相乘：4 × 3 × 32 × 32 = 12,288。",
                ),
                Check("n", "value", 12288),
            ),
        ),
    ),
)

# --- lesson 2: operations and devices (seed 002) ---------------------------------------------------------------------

OPERATIONS = Lesson(
    "operations",
    Text("Operations and devices", "运算与设备"),
    Text(
        "Adding in four ways, reshaping and reducing, indexing, and moving tensors to a GPU.",
        "四种加法、变形与归约、索引，以及把张量搬到 GPU 上。",
    ),
    ("002",),
    (
        Step(
            Text("Four ways to add", "加法的四种写法"),
            Text(
                "All four lines below compute the same sum. They differ only in **where the result goes**:\n\n"
                "1. `x + y` makes a new tensor.\n"
                "2. `torch.add(x, y)` is the same, written as a function.\n"
                "3. `torch.add(x, y, out=result)` writes into a tensor you made earlier.\n"
                "4. `y.add_(x)` changes `y` itself. A trailing underscore always means *in place*.\n\n"
                "In-place operations save memory, but they overwrite a value autograd may still need; the Graph "
                "Explorer has an example of that pitfall.",
                "下面四行算的是同一个和，区别只在于**结果放在哪里**：\n\n"
                "1. `x + y` 产生一个新张量。\n"
                "2. `torch.add(x, y)` 效果相同，只是写成函数。\n"
                "3. `torch.add(x, y, out=result)` 把结果写进事先准备好的张量。\n"
                "4. `y.add_(x)` 直接改写 `y`。方法名末尾带下划线，意思就是*原地*修改。\n\n"
                "原地运算省内存，但会覆盖掉自动求导可能还要用的值；“计算图探索”页里有这个陷阱的例子。",
            ),
            """x = torch.ones(5, 3)
y = torch.rand(5, 3)
s1 = x + y                    # 1. the operator
s2 = torch.add(x, y)          # 2. the function
result = torch.empty(5, 3)
torch.add(x, y, out=result)   # 3. into an existing tensor
y.add_(x)                     # 4. in place: y changes
print(torch.equal(s1, s2), torch.equal(s1, result))
print(torch.equal(s1, y))
""",
            PLAYGROUND,
            Quiz(
                Text("Which line changes `y`?", "哪一行改变了 `y`？"),
                (same("`s1 = x + y`"), same("`torch.add(x, y, out=result)`"), same("`y.add_(x)`")),
                2,
                Text(
                    "Methods that end in `_` work in place: they overwrite the tensor they are called on.",
                    "名字以 `_` 结尾的方法是原地运算，会改写调用它的那个张量。",
                ),
            ),
        ),
        Step(
            Text("Reshaping, reducing, multiplying", "变形、归约与矩阵乘法"),
            Text(
                "`reshape` lays the same numbers out in a new shape. A **reduction** such as `sum` or `mean` "
                "collapses one axis: `dim=0` runs down the columns, `dim=1` along the rows.\n\n"
                "`@` is matrix multiplication: a (2 × 3) matrix times a (3 × 2) matrix gives a 2 × 2 one. The "
                "inner sizes must agree; that is the most common shape error you will meet.",
                "`reshape` 把同一批数按新的形状重新排列。`sum`、`mean` 这类**归约**运算会压掉一条轴："
                "`dim=0` 沿着每一列往下算，`dim=1` 沿着每一行横着算。\n\n"
                "`@` 是矩阵乘法：(2 × 3) 乘 (3 × 2) 得到 2 × 2。中间那两个尺寸必须相等，"
                "这是你以后最常碰到的形状报错。",
            ),
            """x = torch.arange(6.)       # 0, 1, 2, 3, 4, 5
m = x.reshape(2, 3)        # the same numbers, two rows
col_sums = m.sum(dim=0)    # add down each column
row_means = m.mean(dim=1)  # average along each row
w = torch.ones(3, 2)
p = m @ w                  # (2 x 3) @ (3 x 2) -> 2 x 2
print(m, col_sums, row_means, p, sep="\\n")
""",
            PLAYGROUND,
            Quiz(
                Text("What is `col_sums`?", "`col_sums` 是多少？"),
                (same("`[3., 5., 7.]`"), same("`[3., 12.]`"), same("`[15.]`")),
                0,
                Text(
                    "The rows are [0, 1, 2] and [3, 4, 5]; adding down the columns gives 3, 5 and 7.",
                    "两行分别是 [0, 1, 2] 和 [3, 4, 5]，逐列相加得到 3、5、7。",
                ),
                Check("col_sums", "value", [3.0, 5.0, 7.0]),
            ),
        ),
        Step(
            Text("Indexing, slicing, joining", "索引、切片与拼接"),
            Text(
                "Tensors are indexed like nested lists, one position per axis: `x[1]` is a row, `x[:, 2]` a "
                "column, `x[:2, :2]` the top-left corner. `torch.cat` joins tensors along an existing axis; "
                "every other axis must match.",
                "张量的索引和嵌套列表类似，每条轴给一个位置：`x[1]` 取一行，`x[:, 2]` 取一列，"
                "`x[:2, :2]` 取左上角。`torch.cat` 沿着已有的某条轴把张量接起来，其余各轴的长度必须一致。",
            ),
            """x = torch.arange(12).reshape(3, 4)
row = x[1]
col = x[:, 2]
corner = x[:2, :2]
both = torch.cat((x, x), dim=0)   # rows of both copies
print(row, col, corner, sep="\\n")
print(both.shape)
""",
            PLAYGROUND,
            Quiz(
                Text("What is `both.shape`?", "`both.shape` 是什么？"),
                (same("`torch.Size([3, 8])`"), same("`torch.Size([6, 4])`"), same("`torch.Size([2, 3, 4])`")),
                1,
                Text(
                    "`dim=0` puts the 3 rows of the second copy under the first: 6 rows of 4.",
                    "`dim=0` 把第二份的 3 行接在第一份下面，得到 6 行 4 列。",
                ),
                Check("both", "shape", [6, 4]),
            ),
        ),
        Step(
            Text("Devices: CPU and GPU", "设备：CPU 与 GPU"),
            Text(
                "Every tensor lives on a **device**, and a new one starts in the computer's main memory (the "
                "CPU). The tensors in one operation must all be on the same device.\n\n"
                "`x.cuda()` copies to the GPU and fails on a machine without one. The portable habit is to pick a "
                "device once, at the top, and write `x.to(device)` everywhere: the same program then runs on a "
                "laptop and on a GPU server. In this app, the **Device** menu in the sidebar chooses where your "
                "programs run.",
                "每个张量都放在某个**设备**上，新建的张量默认在主内存里（也就是 CPU）。"
                "参与同一次运算的张量必须在同一个设备上。\n\n"
                "`x.cuda()` 会把张量复制到 GPU，没有 GPU 的机器上会直接报错。更稳妥的习惯是："
                "在程序开头选好一次设备，之后处处写 `x.to(device)`，这样同一份代码在笔记本和 GPU 服务器上都能跑。"
                "在本应用中，侧边栏的“设备”菜单决定你的程序在哪里运行。",
            ),
            """has_gpu = torch.cuda.is_available()
device = torch.device("cuda" if has_gpu else "cpu")
x = torch.ones(2, 2)
x = x.to(device)   # moves x only when there is a GPU
print(x.device)
if has_gpu:
    y = x.cuda()   # older spelling; fails without a GPU
    print(y.device)
""",
            PLAYGROUND,
            Quiz(
                Text(
                    "On a computer without a GPU, what does `x.to(device)` do here?",
                    "在没有 GPU 的电脑上，这里的 `x.to(device)` 会怎样？",
                ),
                (
                    Text("It raises an error", "报错"),
                    Text("x stays on the CPU", "x 仍留在 CPU 上"),
                    Text("It copies x to the GPU anyway", "照样把 x 复制到 GPU"),
                ),
                1,
                Text(
                    '`device` is "cpu" there, and moving a tensor to the device it is already on changes nothing.',
                    '那时 `device` 就是 "cpu"，把张量移到它本来所在的设备上，什么也不会改变。',
                ),
            ),
        ),
    ),
)

# --- lesson 3: autograd, E = 3a³ − b² (seed 004) ----------------------------------------------------------------------

SEED_004 = """a = torch.tensor([2., 4.], requires_grad=True)
b = torch.tensor([7., 5.], requires_grad=True)
E = 3*a**3 - b**2
"""

AUTOGRAD = Lesson(
    "autograd",
    Text("Autograd: E = 3a³ − b²", "自动求导：E = 3a³ − b²"),
    Text(
        "requires_grad, the graph behind a result, backward with a gradient vector, and gradients that add up.",
        "requires_grad、结果背后的计算图、带 gradient 向量的 backward，以及会累加的梯度。",
    ),
    ("004",),
    (
        Step(
            Text("Asking PyTorch to keep track", "让 PyTorch 记下每一步运算"),
            Text(
                "`requires_grad=True` tells PyTorch: *I may want derivatives with respect to this tensor.* Such "
                "tensors are the **leaves** of the graph; in training they are the parameters.\n\n"
                "From then on every operation on `a` or `b` records a node. `E.grad_fn` is the last one "
                "(`SubBackward0`, from the minus sign), and it links back through the powers and the "
                "multiplication to `a` and `b`. Press **Run here**: the graph drawn below is exactly that chain.",
                "`requires_grad=True` 的意思是：*之后我可能要对这个张量求导。* 这样的张量是计算图的**叶子**，"
                "训练时它们就是模型参数。\n\n"
                "从这以后，对 `a` 或 `b` 做的每一次运算都会留下一个节点。`E.grad_fn` 是最后一个节点"
                "（减号产生的 `SubBackward0`），顺着它能经过乘方和乘法一路连回 `a` 和 `b`。"
                "点“在此运行”，下方画出的图就是这条链。",
            ),
            SEED_004 + "print(E)\nprint(E.grad_fn)\n",
            GRAPH,
            Quiz(
                Text("What is `E`?", "`E` 是多少？"),
                (same("`[-25., 167.]`"), same("`[24., 192.]`"), same("`[-49., -25.]`")),
                0,
                Text(
                    "First entry: 3·2³ − 7² = 24 − 49 = −25; second: 3·4³ − 5² = 192 − 25 = 167.",
                    "第一项：3·2³ − 7² = 24 − 49 = −25；第二项：3·4³ − 5² = 192 − 25 = 167。",
                ),
                Check("E", "value", [-25.0, 167.0]),
            ),
            graph=True,
        ),
        Step(
            Text("backward with a gradient vector", "带 gradient 向量的 backward"),
            Text(
                "`backward()` walks the graph from `E` back to the leaves, applying the chain rule at each node, "
                "and stores the results in `a.grad` and `b.grad`.\n\n"
                "If `E` were a single number, `E.backward()` would need nothing more. But `E` holds two numbers, "
                "so PyTorch needs to know how much each one counts. The `gradient` argument says so: with "
                "`[1., 1.]` you get the gradient of E₁ + E₂. (The technical name is a *vector–Jacobian "
                "product*.) Since E₁ only depends on a₁ and E₂ only on a₂, each entry of `a.grad` is simply "
                "the slope of its own Eᵢ.",
                "`backward()` 从 `E` 出发沿计算图往回走，在每个节点上用一次链式法则，"
                "最后把结果存进 `a.grad` 和 `b.grad`。\n\n"
                "如果 `E` 只是一个数，直接调用 `E.backward()` 就够了。可这里的 `E` 有两个数，"
                "PyTorch 得知道每个数各占多少分量，`gradient` 参数就是用来交代这件事的："
                "传入 `[1., 1.]`，得到的就是 E₁ + E₂ 的梯度（专业说法叫*向量–雅可比积*）。"
                "由于 E₁ 只和 a₁ 有关、E₂ 只和 a₂ 有关，`a.grad` 的每一项就是对应 Eᵢ 自己的斜率。",
            ),
            SEED_004
            + """external_gradient = torch.tensor([1., 1.])
E.backward(gradient=external_gradient)
print(a.grad)
print(b.grad)
""",
            GRAPH,
            Quiz(
                Text("What is `a.grad`?", "`a.grad` 是多少？"),
                (same("`[36., 144.]`"), same("`[12., 48.]`"), same("`[24., 192.]`")),
                0,
                Text("∂E/∂a = 9a², so 9·2² = 36 and 9·4² = 144.", "∂E/∂a = 9a²，所以 9·2² = 36，9·4² = 144。"),
                Check("a", "grad", [36.0, 144.0]),
            ),
            graph=True,
        ),
        Step(
            Text("Check it by hand", "亲手验算一遍"),
            Text(
                "The power rule gives the same numbers PyTorch found:\n\n"
                "- d(3a³)/da = 9a²\n"
                "- d(−b²)/db = −2b\n\n"
                "The snippet compares autograd's answer with these formulas. Then open it in the Graph Explorer "
                "and press **Next** to watch backward visit each node (`SubBackward0`, `MulBackward0`, "
                "`PowBackward0`…) and apply its own small rule.",
                "用幂函数求导法则，可以得到和 PyTorch 一样的结果：\n\n"
                "- d(3a³)/da = 9a²\n"
                "- d(−b²)/db = −2b\n\n"
                "这段代码把自动求导的结果和上面的公式逐项比较。然后在“计算图探索”里打开它，"
                "一次次点“下一步”，看反向传播怎样依次经过每个节点（`SubBackward0`、`MulBackward0`、"
                "`PowBackward0`……），各自套用一条简单的求导规则。",
            ),
            SEED_004
            + """E.backward(gradient=torch.tensor([1., 1.]))
by_hand_a = 9 * a.detach()**2
by_hand_b = -2 * b.detach()
print(torch.equal(a.grad, by_hand_a))
print(torch.equal(b.grad, by_hand_b))
""",
            GRAPH,
            Quiz(
                Text("What is `b.grad`?", "`b.grad` 是多少？"),
                (same("`[-14., -10.]`"), same("`[14., 10.]`"), same("`[-49., -25.]`")),
                0,
                Text(
                    "∂E/∂b = −2b: −2·7 = −14 and −2·5 = −10. The sign comes from the minus in E.",
                    "∂E/∂b = −2b：−2·7 = −14，−2·5 = −10。负号来自 E 里的减号。",
                ),
                Check("b", "grad", [-14.0, -10.0]),
            ),
            graph=True,
        ),
        Step(
            Text("What the gradient vector weighs", "gradient 向量起什么作用"),
            Text(
                "Change the vector and you change the question. With `gradient=[1., 0.]` only E₁ counts, so "
                "nothing flows back to the second entries of `a` and `b`. Try `[0.5, 2.]` in the Graph "
                "Explorer and predict the result before you run it.",
                "换一个向量，就换了一个问题。传入 `gradient=[1., 0.]` 时只有 E₁ 被计入，"
                "所以 `a` 和 `b` 的第二项收不到任何梯度。到“计算图探索”里试试 `[0.5, 2.]`，"
                "先自己算出答案，再运行验证。",
            ),
            SEED_004
            + """E.backward(gradient=torch.tensor([1., 0.]))  # E[0] only
print(a.grad)
print(b.grad)
""",
            GRAPH,
            Quiz(
                Text("With `gradient=[1., 0.]`, what is `a.grad`?", "传入 `gradient=[1., 0.]` 时，`a.grad` 是多少？"),
                (same("`[36., 0.]`"), same("`[36., 144.]`"), same("`[0., 144.]`")),
                0,
                Text(
                    "Each entry of E is multiplied by its weight; E₂ gets 0, so a₂ receives no gradient.",
                    "E 的每一项都乘上对应的权重；E₂ 的权重是 0，所以 a₂ 得不到梯度。",
                ),
                Check("a", "grad", [36.0, 0.0]),
            ),
            graph=True,
        ),
        Step(
            Text("Gradients add up", "梯度会累加"),
            Text(
                "`backward` **adds** into `.grad`; it never replaces what is there. Run backward twice and the "
                "gradients double. That is why every training loop clears them before each step "
                "(`optimizer.zero_grad()`), as you will see in the next lesson.\n\n"
                "`retain_graph=True` is needed here because backward normally frees the values it saved as "
                "soon as it has used them; a second pass through the same graph needs them kept.",
                "`backward` 会把新梯度**加**到 `.grad` 上，而不是替换原有的值。连续做两次反向传播，梯度就翻倍。"
                "所以每个训练循环在每一步之前都要先清空梯度（`optimizer.zero_grad()`），下一课就会看到。\n\n"
                "这里需要 `retain_graph=True`，因为反向传播用完保存的中间值后通常会立即释放；"
                "要在同一张图上再走一遍，就得让它先留着。",
            ),
            SEED_004
            + """v = torch.tensor([1., 1.])
# keep the saved values for a second pass:
E.backward(gradient=v, retain_graph=True)
E.backward(gradient=v)
print(a.grad)
""",
            GRAPH,
            Quiz(
                Text("After the two backward calls, what is `a.grad`?", "两次 backward 之后，`a.grad` 是多少？"),
                (same("`[36., 144.]`"), same("`[72., 288.]`"), same("`[0., 0.]`")),
                1,
                Text("The second pass adds another [36, 144] to the first one.", "第二次又加上了一份 [36, 144]。"),
                Check("a", "grad", [72.0, 288.0]),
            ),
            graph=True,
        ),
    ),
)

# --- lesson 4: the dynamic graph and the training loop by hand (seeds 000, 001) --------------------------------------

LINE_DATA = """torch.manual_seed(42)
x = torch.rand(100, 1)
# the data: a line plus a little noise
y = 1 + 2 * x + 0.1 * torch.randn(100, 1)
a = torch.randn(1, requires_grad=True)  # random guesses
b = torch.randn(1, requires_grad=True)
lr = 0.1                                # learning rate
"""

TRAINING_LOOP = Lesson(
    "loop",
    Text("The dynamic graph and the training loop", "动态图与手写训练循环"),
    Text(
        "Graphs built while code runs; fitting a line with raw a and b; then nn.Linear, MSELoss and SGD with momentum.",
        "边运行边搭建的计算图；用裸参数 a、b 拟合直线；再换成 nn.Linear、MSELoss 和带动量的 SGD。",
    ),
    ("000", "001"),
    (
        Step(
            Text("The graph is built as the code runs", "计算图是边运行边搭起来的"),
            Text(
                "PyTorch does not plan the graph in advance. Each operation adds its node at the moment Python "
                "executes it, so plain `if` and `for` decide which nodes exist: another value of `x` can give "
                "another graph. This is what *dynamic graph* means.\n\n"
                "After `backward` the graph is released, and the next forward pass builds a fresh one. In "
                "training that happens at every step.",
                "PyTorch 不会事先规划好整张图。每个运算在 Python 执行到它的那一刻才把自己的节点加进去，"
                "所以普通的 `if` 和 `for` 就能决定图里有哪些节点：`x` 取不同的值，图也可能不同。"
                "这就是所谓的*动态图*。\n\n"
                "`backward` 之后这张图会被释放，下一次前向计算再搭一张新的。训练时每一步都是这样。",
            ),
            """x = torch.tensor(1.5, requires_grad=True)
y = x
steps = 0
for i in range(6):
    if y.item() > 10:   # try x = 3.0: fewer steps
        break
    y = y * x + 1
    steps += 1
y.backward()
print(steps, x.grad)
""",
            GRAPH,
            Quiz(
                Text(
                    "How many times did the loop body run (the value of `steps`)?",
                    "循环体一共执行了几次（即 `steps` 的值）？",
                ),
                (same("2"), same("4"), same("6")),
                1,
                Text(
                    "y goes 1.5 → 3.25 → 5.875 → 9.81 → 15.7; once it passes 10 the `if` ends the loop.",
                    "y 依次变为 1.5 → 3.25 → 5.875 → 9.81 → 15.7，超过 10 之后 `if` 就结束了循环。",
                ),
                Check("steps", "value", 4),
            ),
            graph=True,
        ),
        Step(
            Text("One training step by hand", "手写一步训练"),
            Text(
                "Now a real task: find the line ŷ = a + b·x that fits some noisy points. The two parameters "
                "`a` and `b` start as random guesses. One training step has four moves:\n\n"
                "1. **forward**: predict ŷ for every x;\n"
                "2. **loss**: measure how wrong that is, here the mean squared error;\n"
                "3. **backward**: get ∂loss/∂a and ∂loss/∂b;\n"
                "4. **update**: move each parameter a little *against* its gradient, scaled by the learning "
                "rate.\n\n"
                "The update runs under `torch.no_grad()`: it is bookkeeping, not part of the model, so autograd "
                "should not record it. Setting the seed makes every run give the same numbers.",
                "来做一个真正的任务：找一条直线 ŷ = a + b·x，尽量贴合一堆带噪声的点。"
                "两个参数 `a`、`b` 一开始是随便猜的。一步训练包含四个动作：\n\n"
                "1. **前向**：对每个 x 算出预测值 ŷ；\n"
                "2. **损失**：衡量预测错了多少，这里用均方误差；\n"
                "3. **反向**：求出 ∂loss/∂a 和 ∂loss/∂b；\n"
                "4. **更新**：让每个参数*逆着*梯度方向挪一小步，步子大小由学习率决定。\n\n"
                "更新写在 `torch.no_grad()` 里面：它只是记账，不属于模型本身，不该被自动求导记录下来。"
                "固定随机种子，能让每次运行得到相同的数字。",
            ),
            LINE_DATA
            + """yhat = a + b * x                 # 1. forward
loss = ((y - yhat) ** 2).mean()  # 2. loss (MSE)
loss.backward()                  # 3. backward
with torch.no_grad():            # 4. update, unrecorded
    a -= lr * a.grad
    b -= lr * b.grad
print(loss.item(), a.grad, b.grad)
""",
            GRAPH,
            Quiz(
                Text("Why does the update run inside `torch.no_grad()`?", "为什么更新要写在 `torch.no_grad()` 里？"),
                (
                    Text("It makes the code shorter", "让代码更短"),
                    Text("So the update itself is not recorded in the graph", "这样更新本身不会被记进计算图"),
                    Text("backward only works inside it", "backward 只能在里面调用"),
                ),
                1,
                Text(
                    "Changing a parameter is not part of the model; recording it would tangle the next step's "
                    "graph with this one.",
                    "修改参数不是模型的一部分；如果被记录下来，下一步的计算图就会和这一步缠在一起。",
                ),
            ),
            graph=True,
        ),
        Step(
            Text("Repeat: the training loop", "重复起来：训练循环"),
            Text(
                "Training is those four moves in a loop. One pass over all the data is an **epoch**.\n\n"
                "Remember from lesson 3 that gradients add up: without `a.grad.zero_()` each step would use the "
                "sum of all the gradients so far. The data was made from y = 1 + 2x, so after enough epochs "
                "`a` should be near 1 and `b` near 2. Open the `linear` preset in the Training Studio to watch "
                "the line settle, step by step.",
                "训练就是把这四个动作放进循环里。把全部数据过一遍叫一个**轮次**（epoch）。\n\n"
                "还记得第 3 课说过梯度会累加吗？如果不调用 `a.grad.zero_()`，每一步用的就是之前所有梯度的总和。"
                "这批数据是按 y = 1 + 2x 生成的，所以训练足够多轮后，`a` 应接近 1，`b` 应接近 2。"
                "在“训练工作室”里打开 `linear` 预设，可以一步步看着这条直线慢慢就位。",
            ),
            LINE_DATA
            + """for epoch in range(1000):
    yhat = a + b * x
    loss = ((y - yhat) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        a -= lr * a.grad
        b -= lr * b.grad
    a.grad.zero_()   # gradients add up: clear them
    b.grad.zero_()
print(a.item(), b.item(), loss.item())
""",
            Target("training", "linear"),
            Quiz(
                Text("After 1000 epochs, `b` is closest to…", "1000 轮之后，`b` 最接近……"),
                (same("0"), same("1"), same("2")),
                2,
                Text(
                    "The points were made from y = 1 + 2x, and b is the slope.",
                    "这些点是由 y = 1 + 2x 生成的，而 b 正是斜率。",
                ),
                Check("b", "value", [2.0], tol=0.1),
            ),
        ),
        Step(
            Text("Let PyTorch do the chores", "把杂活交给 PyTorch"),
            Text(
                "The same recipe with PyTorch's building blocks:\n\n"
                "- `nn.Linear(1, 1)` holds a weight and a bias (the `b` and `a` from before), already with "
                "`requires_grad`;\n"
                "- `nn.MSELoss()` is the mean squared error;\n"
                "- `optim.SGD` does the update in `step()` and clears gradients in `zero_grad()`.\n\n"
                "`momentum=0.89` lets each update keep most of the previous one, like a ball rolling downhill, "
                "so a long straight descent speeds up. This data follows y = 5x + 1.75, so a good fit predicts "
                "about 21.75 at x = 4.0. For predicting, switch to `model.eval()` and turn off the graph with "
                "`torch.no_grad()`.",
                "同样的配方，换成 PyTorch 现成的积木：\n\n"
                "- `nn.Linear(1, 1)` 内含一个权重和一个偏置（就是前面的 `b` 和 `a`），"
                "并且已经设好了 `requires_grad`；\n"
                "- `nn.MSELoss()` 就是均方误差；\n"
                "- `optim.SGD` 在 `step()` 里完成更新，在 `zero_grad()` 里清空梯度。\n\n"
                "`momentum=0.89` 让每次更新都保留上一次的大部分势头，就像小球顺坡滚下，"
                "遇到又长又直的下坡会越滚越快。这批数据遵循 y = 5x + 1.75，拟合得好时，"
                "x = 4.0 处的预测约为 21.75。预测前先切换到 `model.eval()`，再用 `torch.no_grad()` 关掉计算图。",
            ),
            """torch.manual_seed(0)
x = 5 * torch.rand(100, 1)
y = 5 * x + 1.75 + 0.25 * torch.randn(100, 1)
model = nn.Linear(1, 1)
loss_fn = nn.MSELoss()
optimizer = optim.SGD(model.parameters(), lr=0.011,
                      momentum=0.89)
for epoch in range(300):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
model.eval()
with torch.no_grad():
    prediction = model(torch.tensor([[4.0]]))
print(prediction.item())
""",
            Target("training", "linear_nn"),
            Quiz(
                Text("What does the trained model predict at x = 4.0?", "训练好的模型在 x = 4.0 处预测出多少？"),
                (Text("about 4", "约 4"), Text("about 21.75", "约 21.75"), Text("about 5", "约 5")),
                1,
                Text(
                    "5 · 4 + 1.75 = 21.75; the fitted line lands within 0.1 of it.",
                    "5 · 4 + 1.75 = 21.75，拟合出的直线在这里与它相差不到 0.1。",
                ),
                Check("prediction", "value", [[21.75]], tol=0.25),
            ),
        ),
    ),
)

# --- lesson 5: training a classifier (seed 003, on 8x8 digits) ------------------------------------------------------

CLASSIFIER = Lesson(
    "classifier",
    Text("Training a classifier", "训练一个分类器"),
    Text(
        "Mini-batches, an MLP with Flatten, Linear and ReLU, cross-entropy, train/eval with no_grad, and saving "
        "weights, on 8×8 handwritten digits.",
        "小批量数据、由 Flatten/Linear/ReLU 组成的多层感知机、交叉熵、train/eval 与 no_grad、保存权重，"
        "数据是 8×8 的手写数字。",
    ),
    ("003",),
    (
        Step(
            Text("Data in mini-batches", "按小批量取数据"),
            Text(
                "A **Dataset** answers two questions: how many samples are there, and what is sample *i* (a "
                "picture and its label)? A **DataLoader** wraps it and hands out shuffled **mini-batches**:\n\n"
                "```python\nloader = DataLoader(train_set, batch_size=32, shuffle=True)\n"
                "for X, y in loader:\n    ...\n```\n\n"
                "CIFAR-10 (60,000 small colour photos) cannot be downloaded here, so this lesson uses "
                "scikit-learn's 8×8 handwritten digits: 1,797 grey pictures of 0–9, the same recipe on a "
                "smaller scale. The sandbox reads no files, so the snippet does by hand what a DataLoader does, "
                "with random pixels standing in for pictures.",
                "**Dataset** 负责回答两个问题：一共有多少个样本？第 *i* 个样本是什么（一张图和它的标签）？"
                "**DataLoader** 把它包起来，每次递出一个打乱过的**小批量**：\n\n"
                "```python\nloader = DataLoader(train_set, batch_size=32, shuffle=True)\n"
                "for X, y in loader:\n    ...\n```\n\n"
                "这里没法下载 CIFAR-10（六万张彩色小照片），所以本课改用 scikit-learn 自带的 8×8 手写数字："
                "1,797 张 0–9 的灰度图，做法完全一样，只是规模小一些。沙箱不能读文件，"
                "所以代码里用随机像素充当图片，亲手做一遍 DataLoader 替我们做的事。",
            ),
            """torch.manual_seed(0)
images = torch.rand(100, 1, 8, 8)      # stand-in pictures
labels = torch.randint(0, 10, (100,))  # a digit for each
batch_size = 32
order = torch.randperm(100)            # shuffle=True
n_batches = 0
for start in range(0, 100, batch_size):
    idx = order[start:start + batch_size]
    X, y = images[idx], labels[idx]    # one mini-batch
    n_batches += 1
print(n_batches, X.shape, y.shape)
""",
            PLAYGROUND,
            Quiz(
                Text(
                    "How many mini-batches make one epoch here (the value of `n_batches`)?",
                    "这里一个轮次分成几个小批量（即 `n_batches` 的值）？",
                ),
                (same("3"), same("4"), same("32")),
                1,
                Text(
                    "100 = 32 + 32 + 32 + 4: the last batch is smaller, as with a DataLoader unless `drop_last=True`.",
                    "100 = 32 + 32 + 32 + 4，最后一批小一些；DataLoader 也是这样，除非设 `drop_last=True`。",
                ),
                Check("n_batches", "value", 4),
            ),
        ),
        Step(
            Text("The model: Flatten, Linear, ReLU", "模型：Flatten、Linear 与 ReLU"),
            Text(
                "Fully connected layers want each sample as one flat row, so `nn.Flatten()` turns every 1×8×8 "
                "picture into 64 numbers (a CIFAR-10 photo would give 3×32×32 = 3,072).\n\n"
                "`nn.Linear(64, 32)` computes x·Wᵀ + b. `nn.ReLU()` keeps positive values and sets the rest to "
                "zero; without it, two Linear layers in a row would collapse into a single one. The last layer "
                "gives 10 **logits**, one raw score per digit; the biggest score is the model's answer.",
                "全连接层要求每个样本是一整行数，所以 `nn.Flatten()` 把每张 1×8×8 的图摊平成 64 个数"
                "（CIFAR-10 的照片则是 3×32×32 = 3,072 个）。\n\n"
                "`nn.Linear(64, 32)` 计算 x·Wᵀ + b。`nn.ReLU()` 保留正数、把其余的置零；"
                "少了它，两个相邻的 Linear 层就等价于一个。最后一层输出 10 个 **logits**，"
                "每个数字对应一个原始得分，得分最高的就是模型的答案。",
            ),
            """torch.manual_seed(0)
images = torch.rand(4, 1, 8, 8)
model = nn.Sequential(
    nn.Flatten(),        # 1 x 8 x 8 -> 64 numbers
    nn.Linear(64, 32),
    nn.ReLU(),
    nn.Linear(32, 10),   # one score (logit) per digit
)
logits = model(images)
print(model)
print(logits.shape)
""",
            GRAPH,
            Quiz(
                Text("What is `logits.shape`?", "`logits.shape` 是什么？"),
                (same("`torch.Size([4, 10])`"), same("`torch.Size([4, 64])`"), same("`torch.Size([10])`")),
                0,
                Text("One row per picture in the batch, one column per class.", "批中每张图一行，每个类别一列。"),
                Check("logits", "shape", [4, 10]),
            ),
            graph=True,
        ),
        Step(
            Text("Loss and one optimisation step", "损失函数与一步优化"),
            Text(
                "`nn.CrossEntropyLoss` turns the logits into probabilities (softmax) and charges −log of the "
                "probability given to the right class. A confident wrong answer costs a lot; a confident right "
                "one costs almost nothing.\n\n"
                "An untrained network spreads its bets evenly, about 1/10 per digit, so its first loss is near "
                "−ln(1/10) = ln 10 ≈ 2.3. That makes a handy sanity check. The step itself is the familiar "
                "`zero_grad`, `backward`, `step`.",
                "`nn.CrossEntropyLoss` 先用 softmax 把 logits 变成概率，再取正确类别概率的负对数作为损失。"
                "自信地答错，代价很大；自信地答对，几乎没有代价。\n\n"
                "没训练过的网络对每个数字都差不多押 1/10，所以第一次的损失大约是 −ln(1/10) = ln 10 ≈ 2.3，"
                "这是个顺手的自检。一步优化还是熟悉的 `zero_grad`、`backward`、`step`。",
            ),
            """torch.manual_seed(0)
images = torch.rand(32, 1, 8, 8)
labels = torch.randint(0, 10, (32,))
model = nn.Sequential(nn.Flatten(), nn.Linear(64, 32),
                      nn.ReLU(), nn.Linear(32, 10))
loss_fn = nn.CrossEntropyLoss()
optimizer = optim.SGD(model.parameters(), lr=0.1)
model.train()                   # training mode
logits = model(images)
loss = loss_fn(logits, labels)  # softmax, -log p(right)
optimizer.zero_grad()           # old grads would add up
loss.backward()
optimizer.step()
print(loss.item())
""",
            GRAPH,
            Quiz(
                Text(
                    "About how large is the first loss of this untrained 10-class model?",
                    "这个未经训练的 10 分类模型，第一次的损失大约是多少？",
                ),
                (same("0.23"), same("2.3"), same("23")),
                1,
                Text(
                    "Guessing 1/10 for the right class costs −ln(0.1) ≈ 2.30.",
                    "给正确类别只押 1/10，代价是 −ln(0.1) ≈ 2.30。",
                ),
                Check("loss", "value", 2.3026, tol=0.3),
            ),
            graph=True,
        ),
        Step(
            Text("train(), eval() and no_grad", "train()、eval() 与 no_grad"),
            Text(
                "Two switches with two different jobs:\n\n"
                "- `model.train()` / `model.eval()` tell the **layers** how to behave. `Dropout` silences "
                "random units while training and does nothing in eval mode; batch normalisation also changes.\n"
                "- `torch.no_grad()` tells **autograd** not to record a graph: less memory, faster, and nothing "
                "to backpropagate, which is what you want when testing or predicting.\n\n"
                "Accuracy is the share of right answers. An untrained model on random labels hovers around 10%.",
                "两个开关，各管一件事：\n\n"
                "- `model.train()` / `model.eval()` 告诉**各层**该怎么工作：`Dropout` 训练时随机让一部分单元"
                "失声，评估时什么也不做；批归一化的行为也会随之改变。\n"
                "- `torch.no_grad()` 告诉**自动求导**不要记录计算图：省内存、跑得快，也没有东西可反向传播，"
                "测试和预测时正需要这样。\n\n"
                "准确率就是答对的比例。没训练过的模型面对随机标签，准确率在 10% 上下。",
            ),
            """torch.manual_seed(0)
images = torch.rand(100, 1, 8, 8)
labels = torch.randint(0, 10, (100,))
model = nn.Sequential(
    nn.Flatten(), nn.Linear(64, 32), nn.ReLU(),
    nn.Dropout(0.2), nn.Linear(32, 10),
)
model.eval()            # test mode: Dropout is off
with torch.no_grad():   # no graph is recorded
    scores = model(images)
    predicted = scores.argmax(dim=1)
    right = (predicted == labels).float()
    accuracy = right.mean().item()
print(model.training, scores.requires_grad, accuracy)
""",
            PLAYGROUND,
            Quiz(
                Text(
                    "Inside `torch.no_grad()`, what is `scores.requires_grad`?",
                    "在 `torch.no_grad()` 里面，`scores.requires_grad` 是什么？",
                ),
                (same("`True`"), same("`False`")),
                1,
                Text(
                    "No graph is recorded, so the output does not require gradients, even though the weights do.",
                    "没有记录计算图，所以输出不需要梯度，尽管权重本身是需要的。",
                ),
                Check("scores", "requires_grad", False),
            ),
        ),
        Step(
            Text("Saving weights, and training for real", "保存权重，再真正训练一次"),
            Text(
                "What a trained model has learnt is its weights. `model.state_dict()` is a dictionary from names "
                "such as `1.weight` to tensors. In an ordinary script you would write\n\n"
                '```python\ntorch.save(model.state_dict(), "digits.pt")\n'
                'model.load_state_dict(torch.load("digits.pt", weights_only=True))\n```\n\n'
                "and load them into a model built the same way. The sandbox writes no files, so the snippet "
                "lists the same names with `named_parameters()`. Then open the `digits` preset in the Training "
                "Studio: it trains this recipe on the real digits, and you can download the weights as "
                "`.safetensors` or `.pt` and upload them back.",
                "训练好的模型，学到的东西都在权重里。`model.state_dict()` 是一个字典，"
                "把 `1.weight` 这样的名字映射到对应的张量。在普通脚本里可以这样写：\n\n"
                '```python\ntorch.save(model.state_dict(), "digits.pt")\n'
                'model.load_state_dict(torch.load("digits.pt", weights_only=True))\n```\n\n'
                "然后加载进一个结构相同的模型。沙箱不能写文件，所以代码用 `named_parameters()` "
                "列出同样的名字。接着到“训练工作室”打开 `digits` 预设：它在真实的手写数字上训练这套配方，"
                "你可以把权重下载成 `.safetensors` 或 `.pt`，再上传回去。",
            ),
            """model = nn.Sequential(nn.Flatten(), nn.Linear(64, 32),
                      nn.ReLU(), nn.Linear(32, 10))
for name, p in model.named_parameters():
    print(name, tuple(p.shape))
n_params = 0
for p in model.parameters():
    n_params += p.numel()
print(n_params)
""",
            Target("training", "digits"),
            Quiz(
                Text(
                    "How many numbers would the saved file hold (the value of `n_params`)?",
                    "保存下来的文件里有多少个数（即 `n_params` 的值）？",
                ),
                (same("106"), same("2,368"), same("2,410")),
                2,
                Text(
                    "Each Linear(i, o) stores an o×i weight and o biases: 64·32 + 32 + 32·10 + 10 = 2,410.",
                    "每个 Linear(i, o) 有 o×i 个权重和 o 个偏置：64·32 + 32 + 32·10 + 10 = 2,410。",
                ),
                Check("n_params", "value", 2410),
            ),
        ),
    ),
)

LESSONS: tuple[Lesson, ...] = (TENSORS, OPERATIONS, AUTOGRAD, TRAINING_LOOP, CLASSIFIER)

# --- helpers ----------------------------------------------------------------------------------------------------------

PAGE_FILES = {"playground": "pages/playground.py", "graph": "pages/graph.py", "training": "pages/training.py"}


def by_key(key: str | None) -> Lesson | None:
    """The lesson called `key`, or None."""
    return next((ls for ls in LESSONS if ls.key == key), None)


def texts(lesson: Lesson) -> list[Text]:
    """Every text of a lesson (title, summary, step titles and bodies, quiz questions, choices and reasons)."""
    out = [lesson.title, lesson.summary]
    for step in lesson.steps:
        out += [step.title, step.body]
        if step.quiz is not None:
            out += [step.quiz.question, *step.quiz.choices, step.quiz.why]
    return out


def observed(result: dict[str, Any], check: Check) -> Any:
    """What a run's result says at `check`'s place (None when the variable or field is missing)."""
    record = (result.get("variables") or {}).get(check.name)
    return None if record is None else record.get(check.field)


def _numbers(value: Any) -> list[float] | None:
    """A number or a nested list of numbers, flattened; None for anything else (bools are not numbers here)."""
    stack, out = [value], []
    while stack:
        v = stack.pop()
        if isinstance(v, list):
            stack.extend(reversed(v))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append(float(v))
        else:
            return None
    return out


def agrees(check: Check, result: dict[str, Any]) -> bool:
    """Whether the run's value at `check` equals the expected answer (numbers within `check.tol`)."""
    got = observed(result, check)
    want, have = _numbers(check.expected), _numbers(got)
    if want is not None and have is not None:
        return len(want) == len(have) and all(abs(w - h) <= check.tol for w, h in zip(want, have))
    return got == check.expected


def handoff(step: Step) -> tuple[str, dict[str, Any], tuple[str, ...]]:
    """How "try it" opens `step`: (page file, session_state values to set, session_state keys to drop).

    The playground gets the snippet in its editor; the graph explorer gets it too and, with its old result
    dropped, runs it on arrival; the training studio gets the preset.
    """
    target = step.target or PLAYGROUND
    if target.page == "playground":
        return PAGE_FILES["playground"], {"pg_code": step.code}, ("pg_result", "pg_run_key")
    if target.page == "graph":
        return PAGE_FILES["graph"], {"gx_code": step.code}, ("gx_result", "gx_step", "gx_check", "gx_expand")
    return PAGE_FILES["training"], {"tr_preset": target.preset}, ()
