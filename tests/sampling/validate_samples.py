#!/usr/bin/env python3
"""Validates texts generated under a JSON Schema constraint with an independent validator.

Input: JSON lines {"schema": ..., "text": "..."}. Each text must parse as JSON (strictly: no
NaN/Infinity) and validate against its schema with the `jsonschema` package (Debian's
python3-jsonschema) and the format checker of the schema's draft (2020-12 by default). Exit status 1 and one line per failure otherwise.
"""
import json
import sys

import jsonschema


def reject_constant(name):
    raise ValueError(f"non-JSON constant {name}")


def main(path):
    failures = 0
    total = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            case = json.loads(line)
            total += 1
            try:
                value = json.loads(case["text"], parse_constant=reject_constant)
                cls = jsonschema.validators.validator_for(case["schema"], default=jsonschema.Draft202012Validator)
                # The draft's own format checker: FormatChecker() mixes every draft's ("time" is
                # draft 3's %H:%M:%S there).
                cls(case["schema"], format_checker=cls.FORMAT_CHECKER).validate(value)
            except Exception as e:  # noqa: BLE001 - every failure is reported the same way
                failures += 1
                print(f"INVALID: schema={json.dumps(case['schema'])} text={case['text']!r}: {e}".splitlines()[0])
    print(f"{total - failures}/{total} texts validate")
    return 1 if failures or total == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
