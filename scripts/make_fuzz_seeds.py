#!/usr/bin/python3
# Writes the small seed corpora of fuzz/npy_reader, fuzz/cifar_records, fuzz/tar_gz and fuzz/json_reader
# (committed; rerun only to change them): /usr/bin/python3 scripts/make_fuzz_seeds.py
import gzip, io, os, tarfile
import numpy as np

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "corpus")

def put(target, name, data):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

def npy(a, version=None):
    b = io.BytesIO()
    if version:
        np.lib.format.write_array(b, a, version=version)
    else:
        np.save(b, a)
    return b.getvalue()

put("npy_reader", "f8_2x3.npy", npy(np.arange(6, dtype="<f8").reshape(2, 3)))
put("npy_reader", "f4_vec.npy", npy(np.linspace(0, 1, 5, dtype="<f4")))
put("npy_reader", "u1_3x4x4.npy", npy(np.arange(48, dtype="u1").reshape(3, 4, 4)))
put("npy_reader", "i8_scalar.npy", npy(np.array(7, dtype="<i8")))
put("npy_reader", "bool_empty.npy", npy(np.zeros((0, 3), dtype="?")))
put("npy_reader", "i2_v2.npy", npy(np.arange(4, dtype="<i2"), version=(2, 0)))
put("npy_reader", "fortran.npy", npy(np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3))))
put("npy_reader", "big_endian.npy", npy(np.arange(3, dtype=">f4")))

rng = np.random.default_rng(0)
def records(labels):
    out = b""
    for l in labels:
        out += bytes([l]) + rng.integers(0, 256, 3072, dtype=np.uint8).tobytes()
    return out
put("cifar_records", "one.bin", records([3]))
put("cifar_records", "two.bin", records([0, 9]))
put("cifar_records", "bad_label.bin", records([10]))

def tar(members, fmt=tarfile.GNU_FORMAT):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=fmt) as t:
        for name, data in members:
            if data is None:
                info = tarfile.TarInfo(name); info.type = tarfile.DIRTYPE; t.addfile(info)
            else:
                info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
    return b.getvalue()

small = [("cifar-10-batches-bin", None), ("cifar-10-batches-bin/batches.meta.txt", b"airplane\n"),
         ("cifar-10-batches-bin/test_batch.bin", records([1])[:700])]
put("tar_gz", "cifar_like.tar.gz", gzip.compress(tar(small), mtime=0))
put("tar_gz", "plain.tar", tar([("a.txt", b"hello"), ("b/c.bin", bytes(600))]))
put("tar_gz", "gnu_longname.tar", tar([("d/" + "x" * 150, b"long")]))
put("tar_gz", "pax_longname.tar.gz", gzip.compress(tar([("p/" + "y" * 120, b"pax")], tarfile.PAX_FORMAT), mtime=0))
put("tar_gz", "ustar_prefix.tar", tar([("q" * 90 + "/" + "r" * 60, b"u")], tarfile.USTAR_FORMAT))

# fuzz/json_reader: one small file per kind of result the homework reads back, a loop state,
# and one nested just past the depth limit.
import json
def put_json(name, obj):
    put("json_reader", name, (json.dumps(obj, separators=(",", ":")) + "\n").encode())
put_json("part3.json", {"name": "cnn_3", "loss_curve": [2.3, 2.1, None], "train_acc_curve": [10, 20],
                        "val_acc_curve": [9, 19], "test_acc": 20.5, "weights": [[[[0.1, 0.2], [0.3, 0.4]]]],
                        "seconds": 1.5})
put_json("part4.json", {"name": "mlp_1", "relu_loss_curve": [2.3, 2.0], "sigmoid_loss_curve": [2.3, 2.2],
                        "relu_grad_curve": [0.1, 0.2], "sigmoid_grad_curve": [0.01, 0.02]})
put_json("part5.json", {"name": "cnn_4", "loss_curve_1": [2.3], "loss_curve_01": [2.2], "loss_curve_001": [2.1],
                        "val_acc_curve_1": [10], "val_acc_curve_01": [11], "val_acc_curve_001": [12]})
put_json("scheduled.json", {"name": "cnn_4", "steps_per_epoch": 40, "record_every": 10,
                            "runs": [{"label": "0.1 -> 0.01 at epoch 2", "val_acc_curve": [10, 20, 30]}],
                            "test_acc_scheduled": 30.5, "test_acc_adam": None})
put_json("loop_state.json", {"epoch": 1, "step": 40, "seconds": 0.5, "diverged": False, "diverged_step": 0,
                             "curves": {"loss": [2.3, None]}, "extra": {"options": {"seed": 0}}})
put("json_reader", "nested.json", b"[" * 70 + b"]" * 70)

# fuzz/onnx_model: two small models ann reads (Conv-Relu-MaxPool-Flatten-Gemm; Flatten-Gemm-Sigmoid),
# written by onnx's own helpers (python3-onnx).
from onnx import TensorProto, helper

def onnx_model(nodes, inits, in_shape, out_shape):
    g = helper.make_graph(nodes, "seed", [helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, out_shape)], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()

def init(name, shape):
    return helper.make_tensor(name, TensorProto.FLOAT, shape, np.linspace(-1, 1, int(np.prod(shape))).astype(np.float32))

put("onnx_model", "cnn", onnx_model(
    [helper.make_node("Conv", ["input", "w0", "b0"], ["t0"], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1]),
     helper.make_node("Relu", ["t0"], ["t1"]),
     helper.make_node("MaxPool", ["t1"], ["t2"], kernel_shape=[2, 2], strides=[2, 2]),
     helper.make_node("Flatten", ["t2"], ["t3"], axis=1),
     helper.make_node("Gemm", ["t3", "w4", "b4"], ["logits"], transB=1)],
    [init("w0", [2, 1, 3, 3]), init("b0", [2]), init("w4", [3, 8]), init("b4", [3])], ["N", 1, 4, 4], ["N", 3]))
put("onnx_model", "mlp", onnx_model(
    [helper.make_node("Flatten", ["input"], ["t0"], axis=1),
     helper.make_node("Gemm", ["t0", "w1"], ["t1"], transB=0),
     helper.make_node("Sigmoid", ["t1"], ["logits"])],
    [init("w1", [6, 2])], ["N", 1, 2, 3], ["N", 2]))
