# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""URLs as they may be stored and shown: without the parts that carry credentials.

``user:password@`` and signed query strings (``X-Amz-Signature``, ``sig=``, ``token=``) are
credentials, and a fragment can be one too. What is kept (scheme, host, port, path) names the
resource well enough for a message; where an identity matters, a sha256 is the identity.
Standard library only: it runs on devices and in the controller's callback.
"""

from __future__ import annotations

import re
import urllib.parse

UNPARSABLE = "<unparsable URL>"
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def url(value):
    """``value`` without userinfo, query and fragment; UNPARSABLE when it cannot be split."""
    try:
        parts = urllib.parse.urlsplit(str(value))
        port = parts.port  # raises ValueError on a port that is not a number
    except ValueError:
        return UNPARSABLE
    host = parts.hostname or ""
    if ":" in host:
        host = "[%s]" % host
    netloc = host if port is None else "%s:%d" % (host, port)
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def text(value):
    """``value`` with every URL in it redacted (for error messages that quote a URL)."""
    return _URL_IN_TEXT.sub(lambda match: url(match.group(0)), str(value))
