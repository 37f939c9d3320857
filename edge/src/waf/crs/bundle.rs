//! The CRS files shipped inside the worker: no filesystem at the edge, so the
//! rule files and the word lists their `@pmFromFile` rules read are compiled
//! in. They are the files of `edge/crs/` (byte for byte as published, see its
//! `SOURCE.md`) without comment and blank lines (`edge/build.rs`).

/// `crs-setup.conf.example`: the `SecDefaultAction`s and the setup version.
pub const SETUP: &str = include_str!(concat!(env!("OUT_DIR"), "/crs/crs-setup.conf.example"));

/// Request-phase rule files, in the order CRS loads them.
pub const RULES: &[(&str, &str)] = &[
    ("REQUEST-901-INITIALIZATION.conf", include_str!(concat!(env!("OUT_DIR"), "/crs/REQUEST-901-INITIALIZATION.conf"))),
    ("REQUEST-905-COMMON-EXCEPTIONS.conf", include_str!(concat!(env!("OUT_DIR"), "/crs/REQUEST-905-COMMON-EXCEPTIONS.conf"))),
    ("REQUEST-911-METHOD-ENFORCEMENT.conf", include_str!(concat!(env!("OUT_DIR"), "/crs/REQUEST-911-METHOD-ENFORCEMENT.conf"))),
    ("REQUEST-913-SCANNER-DETECTION.conf", include_str!(concat!(env!("OUT_DIR"), "/crs/REQUEST-913-SCANNER-DETECTION.conf"))),
    ("REQUEST-920-PROTOCOL-ENFORCEMENT.conf", include_str!(concat!(env!("OUT_DIR"), "/crs/REQUEST-920-PROTOCOL-ENFORCEMENT.conf"))),
    ("REQUEST-921-PROTOCOL-ATTACK.conf", include_str!(concat!(env!("OUT_DIR"), "/crs/REQUEST-921-PROTOCOL-ATTACK.conf"))),
    ("REQUEST-922-MULTIPART-ATTACK.conf", include_str!(concat!(env!("OUT_DIR"), "/crs/REQUEST-922-MULTIPART-ATTACK.conf"))),
    ("REQUEST-930-APPLICATION-ATTACK-LFI.conf", include_str!(concat!(env!("OUT_DIR"), "/crs/REQUEST-930-APPLICATION-ATTACK-LFI.conf"))),
    ("REQUEST-931-APPLICATION-ATTACK-RFI.conf", include_str!(concat!(env!("OUT_DIR"), "/crs/REQUEST-931-APPLICATION-ATTACK-RFI.conf"))),
    ("REQUEST-932-APPLICATION-ATTACK-RCE.conf", include_str!(concat!(env!("OUT_DIR"), "/crs/REQUEST-932-APPLICATION-ATTACK-RCE.conf"))),
    ("REQUEST-933-APPLICATION-ATTACK-PHP.conf", include_str!(concat!(env!("OUT_DIR"), "/crs/REQUEST-933-APPLICATION-ATTACK-PHP.conf"))),
    ("REQUEST-934-APPLICATION-ATTACK-GENERIC.conf", include_str!(concat!(env!("OUT_DIR"), "/crs/REQUEST-934-APPLICATION-ATTACK-GENERIC.conf"))),
    ("REQUEST-941-APPLICATION-ATTACK-XSS.conf", include_str!(concat!(env!("OUT_DIR"), "/crs/REQUEST-941-APPLICATION-ATTACK-XSS.conf"))),
    ("REQUEST-942-APPLICATION-ATTACK-SQLI.conf", include_str!(concat!(env!("OUT_DIR"), "/crs/REQUEST-942-APPLICATION-ATTACK-SQLI.conf"))),
    ("REQUEST-943-APPLICATION-ATTACK-SESSION-FIXATION.conf", include_str!(concat!(env!("OUT_DIR"), "/crs/REQUEST-943-APPLICATION-ATTACK-SESSION-FIXATION.conf"))),
    ("REQUEST-944-APPLICATION-ATTACK-JAVA.conf", include_str!(concat!(env!("OUT_DIR"), "/crs/REQUEST-944-APPLICATION-ATTACK-JAVA.conf"))),
    ("REQUEST-949-BLOCKING-EVALUATION.conf", include_str!(concat!(env!("OUT_DIR"), "/crs/REQUEST-949-BLOCKING-EVALUATION.conf"))),
    ("REQUEST-999-COMMON-EXCEPTIONS-AFTER.conf", include_str!(concat!(env!("OUT_DIR"), "/crs/REQUEST-999-COMMON-EXCEPTIONS-AFTER.conf"))),
];

/// Word lists named by `@pmFromFile` in the request-phase rules.
pub const DATA: &[(&str, &str)] = &[
    ("ai-critical-artifacts.data", include_str!(concat!(env!("OUT_DIR"), "/crs/ai-critical-artifacts.data"))),
    ("java-classes.data", include_str!(concat!(env!("OUT_DIR"), "/crs/java-classes.data"))),
    ("lfi-os-files.data", include_str!(concat!(env!("OUT_DIR"), "/crs/lfi-os-files.data"))),
    ("php-function-names-933150.data", include_str!(concat!(env!("OUT_DIR"), "/crs/php-function-names-933150.data"))),
    ("php-variables.data", include_str!(concat!(env!("OUT_DIR"), "/crs/php-variables.data"))),
    ("restricted-files.data", include_str!(concat!(env!("OUT_DIR"), "/crs/restricted-files.data"))),
    ("restricted-upload.data", include_str!(concat!(env!("OUT_DIR"), "/crs/restricted-upload.data"))),
    ("scanners-user-agents.data", include_str!(concat!(env!("OUT_DIR"), "/crs/scanners-user-agents.data"))),
    ("ssrf-no-scheme.data", include_str!(concat!(env!("OUT_DIR"), "/crs/ssrf-no-scheme.data"))),
    ("ssrf.data", include_str!(concat!(env!("OUT_DIR"), "/crs/ssrf.data"))),
    ("unix-shell.data", include_str!(concat!(env!("OUT_DIR"), "/crs/unix-shell.data"))),
    ("windows-powershell-commands.data", include_str!(concat!(env!("OUT_DIR"), "/crs/windows-powershell-commands.data"))),
];

/// The word list `name`, if it ships.
pub fn data(name: &str) -> Option<&'static str> {
    DATA.iter().find(|(n, _)| *n == name).map(|(_, text)| *text)
}
