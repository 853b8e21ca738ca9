#!/usr/bin/python3
"""check_export.py ONNX_TOOL WORKDIR: every homework architecture (ReLU and sigmoid), exported by ann
with random weights, passes onnx.checker (full check, shape inference included), and OpenCV's dnn
module, fed the same 200 real CIFAR-10 test images, gives ann's logits to 1e-4 (max abs difference).
Exit 77 (skipped) where python3-onnx, python3-opencv or numpy is missing."""
import os, subprocess, sys

try:
    import cv2
    import numpy as np
    import onnx
except ImportError as e:
    print(f"skipped: {e} (scripts/bootstrap.sh installs python3-onnx, python3-opencv)")
    sys.exit(77)

tool, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
worst, bad = 0.0, 0
for arch in ["mlp_1", "mlp_2", "cnn_3", "cnn_4", "cnn_5"]:
    for act in ["relu", "sigmoid"]:
        path = os.path.join(work, f"{arch}_{act}.onnx")
        z, x = path + ".logits.npy", path + ".inputs.npy"
        subprocess.run([tool, "export", "--arch", arch, "--activation", act, "--seed", "1", "--out", path],
                       check=True, stdout=subprocess.DEVNULL)
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
        subprocess.run([tool, "logits", path, "--images", "200", "--out", z, "--inputs-out", x],
                       check=True, stdout=subprocess.DEVNULL)
        net = cv2.dnn.readNetFromONNX(path)
        net.setInput(np.load(x))
        diff = float(np.abs(net.forward() - np.load(z)).max())
        worst = max(worst, diff)
        ok = diff <= 1e-4
        bad += not ok
        print(f"{arch:6s} {act:7s} onnx.checker ok; OpenCV vs ann max |logit difference| {diff:.3g}  {'ok' if ok else 'TOO LARGE'}")
print(f"largest difference {worst:.3g} (limit 1e-4)")
sys.exit(1 if bad else 0)
