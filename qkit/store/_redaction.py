"""Nothing that looks like a credential is stored.

Values under keys such as ``token``, ``api_key``, ``secret``, ``password``, ``instance`` (at
any depth), and values that are credentials whatever their key (bearer headers, AWS access key
ids), are replaced by :data:`REDACTED`; the caller collects the redacted paths.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "<redacted>"

# Key names whose values are never stored (matched case-insensitively anywhere in the key).
SECRET_KEY = re.compile(
    r"token|api[_-]?key|secret|passw(or)?d|credential|private[_-]?key|access[_-]?key"
    r"|instance|crn|cookie|bearer|^auth|authori[sz]ation",
    re.IGNORECASE,
)
# Values that are credentials whatever their key: bearer headers, AWS access key ids.
SECRET_VALUE = re.compile(r"^(bearer\s+\S+|(AKIA|ASIA)[A-Z0-9]{16})$", re.IGNORECASE)


def redact(value: Any, path: str, redacted: list[str]) -> Any:
    """Copy of ``value`` with credential-looking entries replaced; their paths appended."""
    if hasattr(value, "to_dict") and not isinstance(value, dict):
        value = value.to_dict()
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            where = f"{path}.{key}"
            if SECRET_KEY.search(str(key)) and item is not None:
                out[key] = REDACTED
                redacted.append(where)
            else:
                out[key] = redact(item, where, redacted)
        return out
    if isinstance(value, list | tuple):
        return [redact(item, f"{path}[{i}]", redacted) for i, item in enumerate(value)]
    if isinstance(value, str) and SECRET_VALUE.match(value.strip()):
        redacted.append(path)
        return REDACTED
    return value
