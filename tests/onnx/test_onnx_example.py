#!/usr/bin/env python3
"""examples/onnx/ end to end, briefly: export_backbone.py exports the PyTorch backbone (20
pretraining steps), fashion_finetune.nn trains its new head for one epoch on 3,000
Fashion-MNIST images, and the checkpoint must hold the backbone's weights bit for bit (frozen)
and classify 1,000 test images far better than chance.

    test_onnx_example.py NNC_EXE     exit 0 on success, 1 otherwise, 77 without torch or data
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "onnx")
sys.path.insert(0, os.path.join(HERE, "..", "peers"))
import nnc_torch as nt  # noqa: E402

nt.require_torch()
np = nt.np


def main():
    nnc = sys.argv[1]
    folder = os.environ.get("NNC_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
    if not os.path.exists(os.path.join(folder, "train-images-idx3-ubyte.gz")):
        print("SKIPPED: Fashion-MNIST is not installed")
        return nt.SKIP_EXIT_CODE
    import onnx
    from onnx import numpy_helper
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(os.path.join(EXAMPLE, "fashion_finetune.nn"), d)
        onnx_path = os.path.join(d, "fashion_backbone.onnx")
        subprocess.run([sys.executable, os.path.join(EXAMPLE, "export_backbone.py"), "--out", onnx_path,
                        "--pretrain", "20"], check=True)
        train_x, train_y = nt.load_fashion(3000, "train")
        test_x, test_y = nt.load_fashion(1000, "test")
        data = {}
        for split, x, y in [("train", train_x, train_y), ("test", test_x, test_y)]:
            data[split] = nt.npy_source({"image": nt.save_npy(os.path.join(d, split + "_x.npy"), x.astype(np.float32)),
                                         "label": nt.save_npy(os.path.join(d, split + "_y.npy"), y.astype(np.int32))})
        model, saved = os.path.join(d, "fashion_finetune.nn"), os.path.join(d, "ft.safetensors")
        nt.run_nnc(nnc, [model, "train", "--data", data["train"], "--epochs", 1, "--save", saved])
        out = nt.run_nnc(nnc, [model, "eval", "--weights", saved, "--data", data["test"]])
        accuracy = float(re.search(r"accuracy: ([0-9.]+)", out).group(1))
        got, _ = nt.read_safetensors(saved)
        failures = []
        for t in onnx.load(onnx_path).graph.initializer:
            if t.data_type != 1:
                continue
            same = np.array_equal(got.get("features." + t.name), numpy_helper.to_array(t))
            failures += [] if same else [f"features.{t.name} changed"]
        print(f"test accuracy {accuracy:.4f} on 1000 images; {len(got)} tensors saved")
        if accuracy < 0.5:
            failures.append(f"accuracy {accuracy} < 0.5")
        if "hidden.weight" not in got:
            failures.append("the new head is not in the checkpoint")
    print("FAILED: " + "; ".join(failures) if failures else "ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
