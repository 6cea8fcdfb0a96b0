# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Extract the API facts the lab's pynvml double must match from a real nvidia-ml-py (run by hand on upgrades).

    pip download nvidia-ml-py==VERSION --no-deps && unzip nvidia_ml_py-*.whl pynvml.py
    python tests/generators/gen_nvml_api.py pynvml.py VERSION

Writes ``tests/unit/plugins/module_utils/fixtures/nvml/nvidia-ml-py-VERSION.json``: every public function's
parameter names (aliases resolved), every integer ``NVML_*``/``nvml*`` constant, and the ``_fields_`` names of
every ctypes structure. Read with ``ast``: the real module needs libnvidia-ml only at ``nvmlInit``, but importing
it here would make it the library gpu_info finds in this venv.
"""

import ast
import json
import os
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "plugins", "module_utils", "fixtures",
                   "nvml")


def extract(source):
    tree = ast.parse(source)
    functions, constants, structs, aliases = {}, {}, {}, {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("nvml"):
            functions[node.name] = [a.arg for a in node.args.args]
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if (isinstance(item, ast.Assign) and getattr(item.targets[0], "id", None) == "_fields_"
                        and isinstance(item.value, ast.List)):
                    structs[node.name] = [elt.elts[0].value for elt in item.value.elts
                                          if isinstance(elt, ast.Tuple) and isinstance(elt.elts[0], ast.Constant)]
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            value = getattr(node.value, "value", None)
            if isinstance(node.value, ast.Constant) and isinstance(value, int) and not isinstance(value, bool) \
                    and name.startswith(("NVML_", "nvml")):
                constants[name] = value
            elif isinstance(node.value, ast.Name) and name.startswith("nvml"):
                aliases[name] = node.value.id
    for alias, target in aliases.items():
        if target in functions:
            functions[alias] = functions[target]
    return {"functions": functions, "constants": constants, "structs": structs}


def main(path, version):
    with open(path, encoding="utf-8") as handle:
        api = dict(extract(handle.read()), source="nvidia-ml-py %s pynvml.py" % version)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "nvidia-ml-py-%s.json" % version), "w", encoding="utf-8") as handle:
        json.dump(api, handle, indent=0, sort_keys=True)
        handle.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
