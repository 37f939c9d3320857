"""libinjection's C library as the oracle for the edge's @detectSQLi.

Reads one JSON string a line on stdin and writes, one JSON array a line,
`[is_sqli, fingerprint]` as C libinjection 3.9.2 (the version ModSecurity 2.9
bundles, through `libinjection-python`) decides it. Run by
`edge/tests/libinjection_oracle.rs`.
"""
import json
import sys

import libinjection

for line in sys.stdin:
    result = libinjection.is_sql_injection(json.loads(line))
    print(json.dumps([bool(result["is_sqli"]), result["fingerprint"]]))
