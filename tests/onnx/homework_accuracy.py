#!/usr/bin/python3
"""homework_accuracy.py RESULTS_DIR CIFAR_DIR: every part3/part3_<arch>.onnx in RESULTS_DIR, run by
OpenCV's dnn module on the whole CIFAR-10 test set (CIFAR_DIR/test_batch.bin, scaled to [0, 1] as
ann does), must give the test accuracy of its part3_<arch>.json to 0.01 points. Needs a homework run
with --test-per-class 0 (the whole test set). Exit 77 (skipped) without python3-opencv."""
import glob, json, os, sys

try:
    import cv2
    import numpy as np
except ImportError as e:
    print(f"skipped: {e} (scripts/bootstrap.sh installs python3-opencv)")
    sys.exit(77)

results, cifar = sys.argv[1], sys.argv[2]
raw = np.fromfile(os.path.join(cifar, "test_batch.bin"), dtype=np.uint8).reshape(10000, 3073)
labels = raw[:, 0].astype(np.int64)
images = (raw[:, 1:].astype(np.float32) / np.float32(255)).reshape(10000, 3, 32, 32)
models = sorted(glob.glob(os.path.join(results, "part3", "part3_*.onnx")))
if not models:
    print(f"homework_accuracy: no part3_*.onnx in {results}/part3")
    sys.exit(1)
bad = 0
for path in models:
    with open(path[:-len(".onnx")] + ".json") as f:
        want = json.load(f)
    if want["test_images"] != 10000:
        print(f"homework_accuracy: {path}: the run tested {want['test_images']} images, not the whole test set")
        sys.exit(1)
    net = cv2.dnn.readNetFromONNX(path)
    correct = 0
    for start in range(0, 10000, 500):
        net.setInput(images[start:start + 500])
        correct += int((net.forward().argmax(axis=1) == labels[start:start + 500]).sum())
    acc = 100.0 * correct / 10000
    ok = abs(acc - want["test_acc"]) <= 0.01 + 1e-9
    bad += not ok
    print(f"{os.path.basename(path)}: OpenCV {acc:.2f}%, ann (JSON) {want['test_acc']:.2f}%  {'ok' if ok else 'DIFFERENT'}")
sys.exit(1 if bad else 0)
