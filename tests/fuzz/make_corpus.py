#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora: OUT/<target>/<name> for each target.

  python3 tests/fuzz/make_corpus.py --source REPO --out DIR

frontend:    every examples/*.nn, tests/peers/models/*.nn and tests/golden/diagnostics/*.nn.
every target: the inputs it once failed on, tests/fuzz/regressions/TARGET/*.
idx, npy, csv, safetensors: small files written here, valid ones (every element type,
    gzip and plain, edge shapes) and typical corruptions (truncated, wrong magic, headers
    claiming sizes far beyond the file, trailing garbage), so that mutation starts next to
    every branch of the loaders. Only the standard library is used (no numpy).
The output is deterministic; the build regenerates it when this script or an input changes.
"""
import argparse
import gzip
import json
import pathlib
import shutil
import struct


def write(out, target, name, data):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def gz(data):
    return gzip.compress(data, compresslevel=6, mtime=0)


# ---- IDX: magic 00 00 TYPE RANK, big-endian u32 dims, big-endian elements.
IDX_TYPES = {0x08: ">B", 0x09: ">b", 0x0B: ">h", 0x0C: ">i", 0x0D: ">f", 0x0E: ">d"}


def idx(type_code, dims, values):
    fmt = IDX_TYPES[type_code]
    head = bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    return head + b"".join(struct.pack(fmt, v) for v in values)


def idx_seeds(out):
    images = idx(0x08, [3, 4, 4], [(i * 7) % 256 for i in range(48)])
    labels = idx(0x08, [3], [1, 0, 9])
    write(out, "idx", "images_u8", images)
    write(out, "idx", "labels_u8", labels)
    write(out, "idx", "images_u8.gz", gz(images))
    write(out, "idx", "labels_u8.gz", gz(labels))
    write(out, "idx", "i8", idx(0x09, [4], [-1, 0, 1, 127]))
    write(out, "idx", "i16", idx(0x0B, [2, 2], [-300, 0, 300, 7]))
    write(out, "idx", "i32", idx(0x0C, [3], [-(2 ** 31), 0, 2 ** 31 - 1]))
    write(out, "idx", "f32", idx(0x0D, [2, 3], [0.5, -1.5, 3.0, 1e30, -0.0, 2.0]))
    write(out, "idx", "f64", idx(0x0E, [2], [1.0, 2.5]))
    write(out, "idx", "f64_labels_integral", idx(0x0E, [2], [1.0, 3.0]))
    write(out, "idx", "empty", idx(0x08, [0, 28, 28], []))
    write(out, "idx", "truncated_data", images[:-5])
    write(out, "idx", "truncated_header", images[:6])
    write(out, "idx", "trailing_garbage", labels + b"junk")
    write(out, "idx", "bad_magic", b"\x01\x02" + images[2:])
    write(out, "idx", "unknown_type", bytes([0, 0, 0x07, 1]) + struct.pack(">I", 1) + b"\0")
    write(out, "idx", "rank0", bytes([0, 0, 0x08, 0]))
    write(out, "idx", "huge_dims", bytes([0, 0, 0x08, 3]) + struct.pack(">III", 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF))
    write(out, "idx", "huge_dims.gz", gz(bytes([0, 0, 0x0D, 2]) + struct.pack(">II", 1 << 30, 1 << 30) + b"\0" * 16))
    write(out, "idx", "truncated.gz", gz(images)[:-9])


# ---- NPY: "\x93NUMPY" version, header length, dict literal padded to 64 bytes, data.
def npy(descr, shape, payload, fortran=False, version=(1, 0), header_override=None):
    if header_override is not None:
        header = header_override
    else:
        shape_text = "()" if not shape else ("(%d,)" % shape[0] if len(shape) == 1 else "(" + ", ".join(map(str, shape)) + ")")
        header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, "True" if fortran else "False", shape_text)
    len_size = 2 if version[0] == 1 else 4
    total = 6 + 2 + len_size + len(header) + 1
    header += " " * ((64 - total % 64) % 64) + "\n"
    head = b"\x93NUMPY" + bytes(version) + struct.pack("<H" if len_size == 2 else "<I", len(header))
    return head + header.encode("latin-1") + payload


def pack(fmt, values):
    return b"".join(struct.pack(fmt, v) for v in values)


def npy_seeds(out):
    f4 = npy("<f4", [2, 3], pack("<f", [0.5, -1, 2, 3, 4, 5]))
    write(out, "npy", "f4_2x3", f4)
    write(out, "npy", "f4_2x3.gz", gz(f4))
    write(out, "npy", "i4_labels", npy("<i4", [4], pack("<i", [0, 1, 2, 9])))
    write(out, "npy", "f8", npy("<f8", [2], pack("<d", [1.0, -2.5])))
    write(out, "npy", "f2", npy("<f2", [3], pack("<e", [1.0, 0.5, -2.0])))
    write(out, "npy", "f4_big_endian", npy(">f4", [2], pack(">f", [1.0, 2.0])))
    write(out, "npy", "i8", npy("<i8", [2], pack("<q", [1, -1])))
    write(out, "npy", "i8_out_of_range", npy("<i8", [1], pack("<q", [2 ** 40])))
    write(out, "npy", "u1", npy("|u1", [2, 2], bytes([0, 1, 254, 255])))
    write(out, "npy", "i1", npy("|i1", [2], bytes([0x80, 0x7F])))
    write(out, "npy", "u2", npy("<u2", [2], pack("<H", [1, 65535])))
    write(out, "npy", "u4", npy("<u4", [2], pack("<I", [1, 2 ** 32 - 1])))
    write(out, "npy", "u8", npy("<u8", [1], pack("<Q", [5])))
    write(out, "npy", "i2", npy("<i2", [1], pack("<h", [-5])))
    write(out, "npy", "b1", npy("|b1", [3], bytes([0, 1, 1])))
    write(out, "npy", "scalar", npy("<f4", [], pack("<f", [1.0])))
    write(out, "npy", "zero_rows", npy("<f4", [0, 3], b""))
    write(out, "npy", "rank4", npy("<f4", [1, 2, 2, 1], pack("<f", [1, 2, 3, 4])))
    write(out, "npy", "version2", npy("<f4", [1], pack("<f", [1.0]), version=(2, 0)))
    write(out, "npy", "version3", npy("<f4", [1], pack("<f", [1.0]), version=(3, 0)))
    write(out, "npy", "fortran", npy("<f4", [2, 2], pack("<f", [1, 2, 3, 4]), fortran=True))
    write(out, "npy", "object", npy("|O", [1], b"\x80\x04N."))
    write(out, "npy", "structured", npy("", [1], b"\0" * 8,
                                        header_override="{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }"))
    write(out, "npy", "string", npy("<U3", [1], b"\0" * 12))
    write(out, "npy", "complex", npy("<c8", [1], b"\0" * 8))
    write(out, "npy", "truncated", f4[:-3])
    write(out, "npy", "trailing", f4 + b"\0\0\0\0")
    write(out, "npy", "huge_shape", npy("<f4", [10 ** 15, 10 ** 15], b""))
    write(out, "npy", "huge_header_len", b"\x93NUMPY\x02\x00" + struct.pack("<I", 0xFFFFFFF0) + b"{}")
    write(out, "npy", "bad_magic", b"\x93NUMPX" + f4[6:])
    write(out, "npy", "bad_dict", npy("", [], b"", header_override="{'descr': '<f4', 'shape': (2,"))
    write(out, "npy", "extra_keys", npy("", [], pack("<f", [1.0]),
                                        header_override="{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': [1, None, 'a'], }"))


# ---- CSV: header naming inputs, last column the label.
def csv_seeds(out):
    seeds = {
        "plain": "x,x,x,label\n1,2,3,0\n4,5,6,1\n",
        "indexed": "x[0],x[1],y.0,y.1,label\n1,2,3,4,5\n-1e3,2.5e-2,+3,4.,0\n",
        "interleaved": "a,b,a,b,label\n1,2,3,4,0\n5,6,7,8,1\n",
        "quoted": "\"x\",\"x\",\"lab,el\"\n\"1.5\",2,3\n",
        "crlf_bom": "\ufeffx,label\r\n1,2\r\n\r\n3,4\r\n",
        "real_label": "x,y\n1,0.25\n2,-1.5\n",
        "blank_lines": "\n\nx,label\n\n1,0\n\n",
        "spaces": " x , x ,  label \n 1 , 2 , 3 \n",
        "bad_nan": "x,label\nnan,0\n",
        "bad_inf": "x,label\ninf,0\n",
        "bad_empty_field": "x,x,label\n1,,0\n",
        "bad_label": "x,label\n1,0.5\n",
        "bad_label_range": "x,label\n1,99999999999\n",
        "bad_row_length": "x,x,label\n1,2\n",
        "bad_indices": "x[1],x[1],label\n1,2,3\n",
        "bad_mixed_indexing": "x,x[1],label\n1,2,3\n",
        "bad_unterminated_quote": "x,label\n\"1,0\n",
        "bad_header_name": "1x,label\n1,0\n",
        "header_only": "x,label\n",
        "wide": ",".join(["p"] * 64 + ["label"]) + "\n" + ",".join(["0.5"] * 64 + ["3"]) + "\n",
    }
    for name, text in seeds.items():
        write(out, "csv", name, text)
    write(out, "csv", "plain.gz", gz(seeds["plain"].encode()))


# ---- safetensors: u64 header length, JSON header, data buffer.
def safetensors(tensors, metadata=None, raw_header=None, extra=b""):
    header, data = {}, b""
    for name, (dtype, shape, payload) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    if metadata is not None:
        header["__metadata__"] = metadata
    text = raw_header if raw_header is not None else json.dumps(header, separators=(",", ":"))
    text = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(text)) + text + data + extra


def safetensors_seeds(out):
    f32 = ("F32", [2, 2], pack("<f", [1, 2, 3, 4]))
    meta = {"nnc.format": "1", "nnc.model": "m", "nnc.epochs": "3", "nnc.steps": "30", "nnc.optimizer": "adam",
            "nnc.normalize": '[{"input":"x","shift":0,"multiplier":0.5}]'}
    write(out, "safetensors", "model", safetensors({"h.weight": f32, "h.bias": ("F32", [2], pack("<f", [0, 1])),
                                                    "h.weight/adam.m": f32}, meta))
    write(out, "safetensors", "empty", safetensors({}))
    write(out, "safetensors", "dtypes", safetensors({
        "f64": ("F64", [2], pack("<d", [1.0, -1.0])), "f16": ("F16", [2], pack("<e", [1.0, 2.0])),
        "bf16": ("BF16", [1], b"\x80\x3f"), "i32": ("I32", [2], pack("<i", [1, -1])),
        "i64": ("I64", [1], pack("<q", [7])), "i8": ("I8", [2], b"\x80\x7f"), "u8": ("U8", [1], b"\xff"),
        "i16": ("I16", [1], pack("<h", [-3])), "u16": ("U16", [1], pack("<H", [65535])),
        "u32": ("U32", [1], pack("<I", [5])), "u64": ("U64", [1], pack("<Q", [5])), "bool": ("BOOL", [2], b"\0\1")}))
    write(out, "safetensors", "scalar_and_zero", safetensors({"s": ("F32", [], pack("<f", [1.0])),
                                                               "z": ("F32", [0, 3], b"")}))
    write(out, "safetensors", "i64_out_of_range", safetensors({"a": ("I64", [1], pack("<q", [2 ** 40]))}))
    write(out, "safetensors", "truncated", safetensors({"w": f32})[:-3])
    write(out, "safetensors", "huge_header_len", struct.pack("<Q", 2 ** 63) + b"{}")
    write(out, "safetensors", "header_past_end", struct.pack("<Q", 4096) + b"{}")
    write(out, "safetensors", "not_json", safetensors({}, raw_header="{\"a\": [1, 2"))
    write(out, "safetensors", "not_object", safetensors({}, raw_header="[1, 2, 3]"))
    write(out, "safetensors", "duplicate", safetensors({}, raw_header=(
        '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'),
        extra=b"\0" * 4))
    write(out, "safetensors", "overlap", safetensors({}, raw_header=(
        '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}'),
        extra=b"\0" * 12))
    write(out, "safetensors", "wrong_size", safetensors({}, raw_header='{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}',
                                                        extra=b"\0" * 8))
    write(out, "safetensors", "huge_shape", safetensors({}, raw_header=(
        '{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}}'), extra=b"\0" * 8))
    write(out, "safetensors", "negative_shape", safetensors({}, raw_header='{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}',
                                                            extra=b"\0" * 4))
    write(out, "safetensors", "bad_metadata", safetensors({}, metadata={"k": 1}))
    write(out, "safetensors", "unknown_dtype", safetensors({"a": ("C64", [1], b"\0" * 8)}))
    write(out, "safetensors", "gap_in_data", safetensors({}, raw_header='{"a":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}',
                                                         extra=b"\0" * 3))


def frontend_seeds(source, out):
    d = out / "frontend"
    d.mkdir(parents=True, exist_ok=True)
    for pattern in ("examples/*.nn", "tests/peers/models/*.nn", "tests/golden/diagnostics/*.nn"):
        for f in sorted(source.glob(pattern)):
            prefix = f.parent.name
            shutil.copyfile(f, d / f"{prefix}_{f.name}")


def onnx_seeds(out):
    """Small models of libonnx-testdata (when installed): one per node-test operator family."""
    d = out / "onnx"
    d.mkdir(parents=True, exist_ok=True)
    data = pathlib.Path("/usr/share/libonnx-testdata/data")
    for kind in ("node", "simple"):
        for case in sorted((data / kind).glob("*"))[::7]:
            model = case / "model.onnx"
            if model.is_file() and model.stat().st_size < 4096:
                shutil.copyfile(model, d / f"{kind}_{case.name}.onnx")


def regression_seeds(source, out):
    """Every input a fuzzer once failed on (tests/fuzz/regressions/TARGET/) seeds its target."""
    for target_dir in sorted((source / "tests/fuzz/regressions").glob("*")):
        if not target_dir.is_dir():
            continue
        d = out / target_dir.name
        d.mkdir(parents=True, exist_ok=True)
        for f in sorted(target_dir.iterdir()):
            if f.is_file():
                shutil.copyfile(f, d / f"regression_{f.name}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", required=True, type=pathlib.Path, help="the repository root")
    ap.add_argument("--out", required=True, type=pathlib.Path, help="where to write OUT/<target>/...")
    args = ap.parse_args()
    for target in ("frontend", "idx", "npy", "csv", "safetensors", "onnx"):
        shutil.rmtree(args.out / target, ignore_errors=True)
    frontend_seeds(args.source, args.out)
    idx_seeds(args.out)
    npy_seeds(args.out)
    csv_seeds(args.out)
    safetensors_seeds(args.out)
    onnx_seeds(args.out)
    regression_seeds(args.source, args.out)


if __name__ == "__main__":
    main()
