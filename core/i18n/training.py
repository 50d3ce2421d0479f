"""Strings of the training page and of core/training's messages (keys start with `tr_`)."""

STRINGS: dict[str, dict[str, str]] = {
    # --- presets (one line each; the CLI prints the English one) -------------------------------------------
    "tr_preset_linear": {
        "en": "seed 000: y = 1 + 2x + noise fitted with two raw parameters a, b (MSE, SGD)",
        "zh": "种子 000：用两个原始参数 a、b 拟合 y = 1 + 2x + 噪声（均方误差，SGD）",
    },
    "tr_preset_linear_nn": {
        "en": "seed 001: nn.Linear(1, 1) on y = 5x + 1.75 + noise, SGD lr 0.011 momentum 0.89, predicts x = 4.0",
        "zh": "种子 001：nn.Linear(1, 1) 拟合 y = 5x + 1.75 + 噪声，SGD 学习率 0.011 动量 0.89，预测 x = 4.0",
    },
    "tr_preset_circle": {"en": "2-D: a disc inside a ring (MLP classifier)", "zh": "二维：圆环包围的圆盘（MLP 分类）"},
    "tr_preset_xor": {
        "en": "2-D: exclusive or of the quadrants (MLP classifier)",
        "zh": "二维：象限的异或（MLP 分类）",
    },
    "tr_preset_gauss": {"en": "2-D: two Gaussian blobs (MLP classifier)", "zh": "二维：两团高斯点（MLP 分类）"},
    "tr_preset_spiral": {"en": "2-D: two interleaved spirals (deeper MLP)", "zh": "二维：两条交错的螺旋（更深的 MLP）"},
    "tr_preset_digits": {
        "en": "scikit-learn 8x8 digits through a DataLoader; seed 003's Flatten + Linear/ReLU net, 10 logits",
        "zh": "scikit-learn 的 8x8 手写数字，经 DataLoader 分批；种子 003 的 Flatten + Linear/ReLU 网络，10 个 logits",
    },
    "tr_preset_digits_cnn": {
        "en": "8x8 digits, a small CNN: conv2d → relu → max_pool2d → batch_norm → dropout → linear",
        "zh": "8x8 手写数字，小型卷积网络：conv2d → relu → max_pool2d → batch_norm → dropout → linear",
    },
    "tr_preset_cifar10": {
        "en": "seed 003: CIFAR-10 from a local folder of its python batches (nothing is downloaded)",
        "zh": "种子 003：从本地文件夹读取 CIFAR-10 的 python 批次文件（不会下载任何东西）",
    },
    # --- settings -------------------------------------------------------------------------------------------
    "tr_set_seed": {"en": "Random seed", "zh": "随机种子"},
    "tr_set_steps": {"en": "Steps to train", "zh": "训练步数"},
    "tr_set_n_points": {"en": "Data points", "zh": "数据点数"},
    "tr_set_noise": {"en": "Noise", "zh": "噪声"},
    "tr_set_train_ratio": {"en": "Share of data used for training", "zh": "训练集比例"},
    "tr_set_optimizer": {"en": "Optimizer", "zh": "优化器"},
    "tr_set_lr": {"en": "Learning rate", "zh": "学习率"},
    "tr_set_momentum": {"en": "Momentum (SGD)", "zh": "动量（SGD）"},
    "tr_set_weight_decay": {"en": "Weight decay", "zh": "权重衰减"},
    "tr_set_reg": {"en": "Regularisation", "zh": "正则化"},
    "tr_set_reg_rate": {"en": "Regularisation rate", "zh": "正则化系数"},
    "tr_set_batch_size": {"en": "Batch size (0 = whole training set)", "zh": "批大小（0 = 整个训练集）"},
    "tr_set_shuffle": {"en": "Shuffle every epoch", "zh": "每轮打乱顺序"},
    "tr_set_eval_every": {"en": "Evaluate every N steps", "zh": "每 N 步评估一次"},
    "tr_set_hidden": {"en": "Hidden layer widths (e.g. 16,16)", "zh": "隐藏层宽度（如 16,16）"},
    "tr_set_activation": {"en": "Activation", "zh": "激活函数"},
    "tr_set_loss": {"en": "Loss", "zh": "损失函数"},
    "tr_set_channels": {"en": "Convolution channels", "zh": "卷积通道数"},
    "tr_set_batch_norm": {"en": "Batch norm after pooling", "zh": "池化后做批归一化"},
    "tr_set_dropout": {"en": "Dropout probability", "zh": "Dropout 概率"},
    "tr_set_folder": {"en": "CIFAR-10 folder on the server", "zh": "服务器上的 CIFAR-10 文件夹"},
    "tr_set_max_train": {"en": "Training images to use", "zh": "使用的训练图片数"},
    "tr_choice_sgd": {"en": "SGD", "zh": "SGD（随机梯度下降）"},
    "tr_choice_adam": {"en": "Adam", "zh": "Adam"},
    "tr_choice_none": {"en": "none", "zh": "无"},
    "tr_choice_l1": {"en": "L1", "zh": "L1"},
    "tr_choice_l2": {"en": "L2", "zh": "L2"},
    "tr_choice_relu": {"en": "ReLU", "zh": "ReLU"},
    "tr_choice_tanh": {"en": "tanh", "zh": "tanh"},
    "tr_choice_sigmoid": {"en": "sigmoid", "zh": "sigmoid"},
    "tr_choice_cross_entropy": {"en": "cross-entropy", "zh": "交叉熵"},
    "tr_choice_mse": {"en": "MSE (on probabilities)", "zh": "均方误差（作用于概率）"},
    # --- errors and notes from core/training ----------------------------------------------------------------
    "tr_err_value": {
        "en": "{name} = {value!r} is not allowed (expected {expect}); the default is used",
        "zh": "{name} = {value!r} 不被允许（应为 {expect}）；已改用默认值",
    },
    "tr_err_preset": {
        "en": "unknown preset {name!r}; known presets: {known}",
        "zh": "未知的预设 {name!r}；可用预设：{known}",
    },
    "tr_dev_unknown": {
        "en": "unknown device {device!r}: training runs on the CPU",
        "zh": "未知设备 {device!r}：在 CPU 上训练",
    },
    "tr_dev_no_cuda": {
        "en": "{device} is not available on this server: training runs on the CPU",
        "zh": "此服务器上没有 {device}：在 CPU 上训练",
    },
    "tr_div_data": {
        "en": "Training stopped at step {step}: the loss became {kind} because the training data contains NaN or Inf.",
        "zh": "训练在第 {step} 步停止：训练数据中含有 NaN 或 Inf，损失变成了 {kind}。",
    },
    "tr_div_initial": {
        "en": "Training stopped at step {step}: the very first loss is {kind}, so the initial weights or settings "
        "already overflow. Try a smaller regularisation rate or other settings.",
        "zh": "训练在第 {step} 步停止：第一次计算的损失就是 {kind}，初始权重或设置已经溢出。请尝试更小的正则化系数或其他设置。",
    },
    "tr_div_lr": {
        "en": "Training stopped at step {step}: the loss became {kind}. The learning rate {lr} is too high for this "
        "data: each update overshoots the minimum, so the next gradient is larger and the loss grew from "
        "{best} to {last} before it overflowed. Try a learning rate of {suggest}.",
        "zh": "训练在第 {step} 步停止：损失变成了 {kind}。学习率 {lr} 对这份数据来说太大：每次更新都越过了最低点，"
        "下一次梯度更大，损失从 {best} 增长到 {last} 后溢出。请尝试学习率 {suggest}。",
    },
    "tr_div_grad": {
        "en": "Training stopped at step {step}: the gradient of layer {layer} became {kind} while the loss was still "
        "{last}. Numbers overflowed inside the backward pass; try a learning rate of {suggest} or L2 "
        "regularisation to keep the weights small.",
        "zh": "训练在第 {step} 步停止：损失仍为 {last} 时，{layer} 层的梯度变成了 {kind}。反向传播中发生了数值溢出；"
        "请尝试学习率 {suggest}，或用 L2 正则化让权重保持较小。",
    },
    "tr_replay_range": {
        "en": "step {step} has not been trained yet (recorded steps: 0 to {last})",
        "zh": "第 {step} 步尚未训练（已记录的步：0 到 {last}）",
    },
    "tr_replay_far": {
        "en": "step {step} is {n} steps from the nearest snapshot (at most {max} are re-run); pick a later step",
        "zh": "第 {step} 步距最近的快照 {n} 步（最多重算 {max} 步）；请选择更靠后的步",
    },
    "tr_w_too_big": {
        "en": "the file has {size} bytes; uploads are limited to {max} bytes",
        "zh": "文件有 {size} 字节；上传上限为 {max} 字节",
    },
    "tr_w_empty": {"en": "the file is empty", "zh": "文件是空的"},
    "tr_w_unreadable": {
        "en": "this is not a readable {format} weights file ({detail})",
        "zh": "这不是可读取的 {format} 权重文件（{detail}）",
    },
    "tr_w_unsafe": {
        "en": "refused: the .pt file holds objects or code other than tensors; only plain state_dicts are "
        "loaded ({detail})",
        "zh": "已拒绝：该 .pt 文件含有张量以外的对象或代码；只加载纯 state_dict（{detail}）",
    },
    "tr_w_not_dict": {
        "en": "expected a flat dict of name -> tensor, found a {type}",
        "zh": "应为“名称 -> 张量”的扁平字典，实际是 {type}",
    },
    "tr_w_bad_key": {"en": "every key must be a string; found {param}", "zh": "所有键都必须是字符串；发现 {param}"},
    "tr_w_not_tensor": {
        "en": "“{param}” holds a {type}, not a tensor (a flat state_dict is expected)",
        "zh": "“{param}” 的值是 {type} 而不是张量（应为扁平的 state_dict）",
    },
    "tr_w_keys": {
        "en": "the names do not match this model: missing {missing}; unexpected {unexpected}",
        "zh": "名称与此模型不符：缺少 {missing}；多出 {unexpected}",
    },
    "tr_w_shape": {
        "en": "{param} has shape {got}, this model needs {want}",
        "zh": "{param} 的形状是 {got}，此模型需要 {want}",
    },
    "tr_w_dtype": {
        "en": "{param} is {dtype}; weights must be floating point",
        "zh": "{param} 是 {dtype}；权重必须是浮点数",
    },
    "tr_w_odd_tensor": {
        "en": "{param} is not a plain tensor of numbers ({kind}); only dense CPU tensors are loaded",
        "zh": "{param} 不是普通的数值张量（{kind}）；只加载稠密的 CPU 张量",
    },
    "tr_w_inflated": {
        "en": "refused: the file declares {size} bytes once unpacked; at most {max} are unpacked",
        "zh": "已拒绝：该文件声明解压后有 {size} 字节；最多只解压 {max} 字节",
    },
    "tr_w_not_weights": {
        "en": "this is not a weights file: neither safetensors nor a PyTorch .pt state_dict",
        "zh": "这不是权重文件：既不是 safetensors，也不是 PyTorch 的 .pt state_dict",
    },
    "tr_w_checker": {
        "en": "the file could not be checked (the checker stopped: {reason}); try again or upload a smaller file",
        "zh": "无法检查该文件（检查进程已停止：{reason}）；请重试或上传更小的文件",
    },
    "tr_wait_slot": {
        "en": "Waiting for a free CPU slot for training: place {place}",
        "zh": "正在等待空闲的训练 CPU 名额：第 {place} 位",
    },
    "tr_w_nonfinite": {"en": "{param} contains NaN or Inf", "zh": "{param} 含有 NaN 或 Inf"},
    "tr_w_loaded": {
        "en": "loaded {n} tensors; training restarts from these weights",
        "zh": "已加载 {n} 个张量；训练从这些权重重新开始",
    },
    "tr_cifar_no_folder": {
        "en": "CIFAR-10 is not downloaded here: enter the folder that holds data_batch_1..5 and test_batch",
        "zh": "此处不会下载 CIFAR-10：请填写包含 data_batch_1..5 和 test_batch 的文件夹",
    },
    "tr_cifar_not_dir": {"en": "{folder} is not a folder", "zh": "{folder} 不是文件夹"},
    "tr_cifar_missing": {"en": "{folder} lacks {files}", "zh": "{folder} 中缺少 {files}"},
    "tr_cifar_unsafe": {
        "en": "refused: a CIFAR-10 file asks to run code or build objects ({detail})",
        "zh": "已拒绝：某个 CIFAR-10 文件试图运行代码或构造对象（{detail}）",
    },
    "tr_cifar_bad": {"en": "not a CIFAR-10 python batch: {detail}", "zh": "不是 CIFAR-10 的 python 批次文件：{detail}"},
    # --- page ---------------------------------------------------------------------------------------------------
    "tr_title": {"en": "Training Studio", "zh": "训练工作室"},
    "tr_intro": {
        "en": "Pick a preset, press Play, and watch autograd at work: every step runs forward, loss.backward() "
        "and optimizer.step(). Pause at any time and replay one step to see its graph with values and gradients.",
        "zh": "选择一个预设，按“播放”，观察自动求导如何工作：每一步都执行前向计算、loss.backward() 和 optimizer.step()。"
        "随时暂停，并重放任意一步，查看它带数值和梯度的计算图。",
    },
    "tr_preset_label": {"en": "Preset", "zh": "预设"},
    "tr_settings": {"en": "Settings (changing one restarts training)", "zh": "设置（修改后训练重新开始）"},
    "tr_play": {"en": "Play", "zh": "播放"},
    "tr_pause": {"en": "Pause", "zh": "暂停"},
    "tr_step": {"en": "Step", "zh": "单步"},
    "tr_reset": {"en": "Reset", "zh": "重置"},
    "tr_speed": {"en": "Steps per frame", "zh": "每帧步数"},
    "tr_counter_step": {"en": "Step", "zh": "步"},
    "tr_counter_epoch": {"en": "Epoch", "zh": "轮次"},
    "tr_counter_loss": {"en": "Last loss", "zh": "最近损失"},
    "tr_counter_acc": {"en": "Test accuracy", "zh": "测试准确率"},
    "tr_finished": {
        "en": "Reached {steps} steps. Raise “Steps to train” to go on.",
        "zh": "已达到 {steps} 步。调高“训练步数”即可继续。",
    },
    "tr_summary": {
        "en": "{n_train} training rows, {n_test} test rows; {params} parameters; batch {batch}; on {device}",
        "zh": "训练 {n_train} 行，测试 {n_test} 行；{params} 个参数；批大小 {batch}；设备 {device}",
    },
    "tr_chart_loss": {"en": "Loss", "zh": "损失"},
    "tr_chart_x": {"en": "step", "zh": "步"},
    "tr_train": {"en": "train", "zh": "训练"},
    "tr_test": {"en": "test", "zh": "测试"},
    "tr_model": {"en": "model", "zh": "模型"},
    "tr_chart_acc": {"en": "Accuracy", "zh": "准确率"},
    "tr_chart_norms": {"en": "Gradient norm per layer", "zh": "每层梯度范数"},
    "tr_chart_boundary": {"en": "Decision boundary: P(class 1)", "zh": "决策边界：P(类别 1)"},
    "tr_chart_fit": {"en": "Data and the model's line", "zh": "数据与模型的直线"},
    "tr_chart_confusion": {"en": "Confusion matrix (test set)", "zh": "混淆矩阵（测试集）"},
    "tr_true": {"en": "true class", "zh": "真实类别"},
    "tr_predicted": {"en": "predicted class", "zh": "预测类别"},
    "tr_chart_per_class": {"en": "Accuracy per class (test set)", "zh": "各类别准确率（测试集）"},
    "tr_predict": {"en": "Predict", "zh": "预测"},
    "tr_prediction": {"en": "model({x}) = {y}", "zh": "模型({x}) = {y}"},
    "tr_prediction_2d": {"en": "P(class 1) at ({x1}, {x2}) = {p}", "zh": "({x1}, {x2}) 处 P(类别 1) = {p}"},
    "tr_inspect": {"en": "Inspect a step", "zh": "查看某一步"},
    "tr_inspect_step": {
        "en": "Step to replay (or click a point of the loss curve)",
        "zh": "要重放的步（也可以点击损失曲线上的点）",
    },
    "tr_inspect_pause": {"en": "Pause training to inspect a step.", "zh": "暂停训练后即可查看某一步。"},
    "tr_inspect_none": {"en": "Train at least one step to inspect it.", "zh": "至少训练一步后才能查看。"},
    "tr_inspect_loss": {
        "en": "Step {step} replayed from the parameters as they were before it: loss {loss} (recorded {recorded}); "
        "the graph has {nodes} nodes.",
        "zh": "从第 {step} 步之前的参数重放：损失 {loss}（记录值 {recorded}）；计算图有 {nodes} 个节点。",
    },
    "tr_inspect_help": {
        "en": "The same graph as the Graph Explorer draws for a program: every node's value at this step's forward, "
        "its gradient, and the backward pass step by step in the engine's order. Parameters carry their names "
        "from model.named_parameters(), each layer's output its layer's name.",
        "zh": "与“计算图浏览器”为程序画的图相同：每个节点在这一步前向时的值、它的梯度，"
        "以及按引擎顺序逐步进行的反向传播。参数使用 model.named_parameters() 中的名字，"
        "每层的输出使用该层的名字。",
    },
    "tr_graph_unavailable": {
        "en": "The graph view is not available yet (core.graph could not be imported: {detail}).",
        "zh": "计算图视图暂不可用（无法导入 core.graph：{detail}）。",
    },
    "tr_weights": {"en": "Weights", "zh": "权重"},
    "tr_download_safetensors": {"en": "Download .safetensors", "zh": "下载 .safetensors"},
    "tr_download_pt": {"en": "Download .pt", "zh": "下载 .pt"},
    "tr_upload": {"en": "Load weights (.safetensors or .pt)", "zh": "加载权重（.safetensors 或 .pt）"},
    "tr_no_trainer": {"en": "This preset cannot start yet:", "zh": "此预设暂时无法开始："},
    "tr_folder_help": {
        "en": "The server's CIFAR-10 folder (the python batches), set by whoever runs the app with the environment "
        "variable {env}. It cannot be chosen from the browser.",
        "zh": "服务器上的 CIFAR-10 文件夹（python 版本的数据批次），由运行本应用的人通过环境变量 {env} 设置，不能在浏览器中选择。",
    },
}
