#!/usr/bin/env python3
"""Checks Tensorlet.Onnx/Protos/onnx.proto against the ONNX package's own message descriptors: every message,
field and number we declare must exist in ONNX with the same number and a compatible kind; then runs ONNX's
checker (full_check, with shape inference) on any .onnx files given.
Needs Debian's python3-onnx (apt-get install python3-onnx); CI does not run it.
Usage: /usr/bin/python3 scripts/check_onnx_proto.py [MODEL.onnx ...]"""
import re
import sys
from pathlib import Path

import onnx
from onnx import onnx_ml_pb2 as ml

root = Path(__file__).resolve().parent.parent
text = (root / "Tensorlet.Onnx" / "Protos" / "onnx.proto").read_text()
text = re.sub(r"//.*", "", text)

# Our message path -> ONNX's descriptor (our top-level enums are nested in ONNX's messages).
errors = []
stack, fields = [], []
for token in re.finditer(r"(message|enum|oneof)\s+(\w+)\s*\{|\}|(repeated\s+)?([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*;|(\w+)\s*=\s*(\d+)\s*;", text):
    if token.group(1):
        stack.append((token.group(1), token.group(2)))
    elif token.group(0) == "}":
        stack.pop()
    elif token.group(5) and stack and stack[-1][0] in ("message", "oneof"):
        path = [name for kind, name in stack if kind == "message"]
        fields.append((path, token.group(5), int(token.group(6)), bool(token.group(3))))
    elif token.group(7) and stack and stack[-1][0] == "enum":
        fields.append(([stack[-1][1]], token.group(7), int(token.group(8)), None))

enum_homes = {"TensorDataType": ml.TensorProto.DataType.DESCRIPTOR, "AttributeType": ml.AttributeProto.AttributeType.DESCRIPTOR}
checked = 0
for path, name, number, repeated in fields:
    if repeated is None:
        enum = enum_homes[path[0]]
        onnx_name = name.replace("ATTRIBUTE_TYPE_", "")
        value = enum.values_by_name.get(onnx_name)
        if value is None or value.number != number:
            errors.append(f"enum {path[0]}.{name} = {number}: ONNX has {onnx_name} = {value.number if value else 'nothing'}")
        checked += 1
        continue
    descriptor = getattr(ml, path[0]).DESCRIPTOR
    for nested in path[1:]:
        descriptor = descriptor.nested_types_by_name[nested]
    field = descriptor.fields_by_name.get(name)
    if field is None or field.number != number:
        errors.append(f"{'.'.join(path)}.{name} = {number}: ONNX has {field.number if field else 'no such field'}")
    elif (field.label == field.LABEL_REPEATED) != repeated:
        errors.append(f"{'.'.join(path)}.{name}: repeated is {repeated} here but not in ONNX")
    checked += 1

for model in sys.argv[1:]:
    onnx.checker.check_model(onnx.load(model), full_check=True)
    print(f"{model}: ONNX {onnx.__version__} checker OK")

for error in errors:
    print(f"onnx.proto check failed: {error}", file=sys.stderr)
if errors:
    sys.exit(1)
print(f"onnx.proto: {checked} fields and enum values agree with ONNX {onnx.__version__}.")
