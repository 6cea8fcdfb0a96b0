# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Diff records in the shape Ansible's --diff output expects."""

from __future__ import annotations

import json


def file_diff(path, before, after):
    """A diff entry for one file; ``None`` content means the file is absent."""
    return {
        "before_header": path if before is not None else "%s (absent)" % path,
        "after_header": path if after is not None else "%s (absent)" % path,
        "before": before or "",
        "after": after or "",
    }


def state_diff(before, after, header=None):
    """A diff entry for structured state (dicts), rendered as stable, sorted JSON text."""
    entry = {
        "before": json.dumps(before, indent=2, sort_keys=True) + "\n",
        "after": json.dumps(after, indent=2, sort_keys=True) + "\n",
    }
    if header:
        entry["before_header"] = entry["after_header"] = header
    return entry


def changed_files(diffs):
    """Paths of the file diffs whose content differs."""
    return [d["after_header"].replace(" (absent)", "") for d in diffs if d["before"] != d["after"]]
