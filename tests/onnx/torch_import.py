#!/usr/bin/python3
"""torch_import.py ONNX_TOOL WORKDIR: every homework architecture (ReLU and sigmoid) built in PyTorch
(tools/cifar_reference.py's definitions) with random weights, exported by torch.onnx.export (opset 13),
loads into ann and gives PyTorch's logits on 200 real CIFAR-10 test images to 1e-5 (max abs
difference). The inputs are the ones ann used (written by onnx_tool), so both see the same floats.
Exit 77 (skipped) where python3-torch or numpy is missing."""
import os, subprocess, sys

try:
    import numpy as np
    import torch
except ImportError as e:
    print(f"skipped: {e} (scripts/bootstrap.sh installs python3-torch)")
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from cifar_reference import homework_model  # noqa: E402

tool, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
torch.manual_seed(0)
worst, bad = 0.0, 0
for arch in ["mlp_1", "mlp_2", "cnn_3", "cnn_4", "cnn_5"]:
    for act in ["relu", "sigmoid"]:
        model = homework_model(arch, act).eval()
        path = os.path.join(work, f"torch_{arch}_{act}.onnx")
        z, x = path + ".logits.npy", path + ".inputs.npy"
        torch.onnx.export(model, torch.zeros(1, 3, 32, 32), path, opset_version=13, input_names=["input"],
                          output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
        subprocess.run([tool, "logits", path, "--images", "200", "--out", z, "--inputs-out", x],
                       check=True, stdout=subprocess.DEVNULL)
        with torch.no_grad():
            want = model(torch.from_numpy(np.load(x))).numpy()
        diff = float(np.abs(want - np.load(z)).max())
        worst = max(worst, diff)
        ok = diff <= 1e-5
        bad += not ok
        print(f"{arch:6s} {act:7s} PyTorch -> ONNX -> ann: max |logit difference| {diff:.3g}  {'ok' if ok else 'TOO LARGE'}")
print(f"largest difference {worst:.3g} (limit 1e-5)")
sys.exit(1 if bad else 0)
