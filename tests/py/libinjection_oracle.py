"""libinjection's C library as the oracle for the edge's @detectSQLi and @detectXSS.

Reads one JSON string a line on stdin and writes, one JSON array a line,
`[is_sqli, fingerprint, is_xss]` as C libinjection 3.9.2 (the version
ModSecurity 2.9 bundles, through `libinjection-python`) decides it. Run by
`edge/tests/libinjection_oracle.rs`.
"""
import json
import sys

import libinjection

for line in sys.stdin:
    value = json.loads(line)
    sqli = libinjection.is_sql_injection(value)
    xss = libinjection.is_xss(value)
    print(json.dumps([bool(sqli["is_sqli"]), sqli["fingerprint"], bool(xss["is_xss"])]))
